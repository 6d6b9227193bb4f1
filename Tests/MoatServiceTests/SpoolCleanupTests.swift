import MailD
import Testing
@testable import MoatService

/// The places the start-up cleanup looks in follow VarDir, and include the ones the
/// composition adds (the Gate's).
struct SpoolCleanupTests {
    @Test func placesFollowVarDir() throws {
        let gate = LeftoverSpool.Place(directory: "/srv/moat/gate", prefixes: ["smtp-"])
        let places = SpoolCleanup.places(try settings("[Root]\nVarDir = /srv/moat\n"), others: [gate])
        #expect(places.map(\.directory) == ["/srv/moat/spool", "/srv/moat/spool/spamd", "/srv/moat/spool/rspamd",
                                            "/srv/moat/spool/clamd", "/srv/moat/gate"])
        #expect(places.first?.prefixes == ["part-", "milter-"])
    }
}
