import Foundation
import Testing
@testable import MoatService

/// The rules of the switch that need no second user to test: what the read-back refuses, and
/// which directories root may hand over. The switch itself runs in real moatd processes
/// (MoatIntegrationTests' PrivilegeDropTests).
struct PrivilegeRulesTests {
    static func status(uid: String = "995\t995\t995\t995", effective: String = "0000000000001400",
                       bounding: String = "0000000000001400", ambient: String = "0000000000000000",
                       noNewPrivs: String = "1") -> String {
        """
        Name:\tmoatd
        Uid:\t\(uid)
        Gid:\t994\t994\t994\t994
        Groups:\t994
        CapInh:\t0000000000000000
        CapPrm:\t\(effective)
        CapEff:\t\(effective)
        CapBnd:\t\(bounding)
        CapAmb:\t\(ambient)
        NoNewPrivs:\t\(noNewPrivs)

        """
    }

    func problems(_ text: String, switched: Bool = true) throws -> [String] {
        try #require(ThreadCredentials(status: text, tid: 7))
            .problems(uid: 995, gid: 994, groups: [994], allowed: Capabilities.kept, switched: switched)
    }

    @Test func theIntendedStateHasNoProblem() throws {
        #expect(try problems(Self.status()).isEmpty)
        // Fewer capabilities than the two (a bounding set without CAP_NET_ADMIN) is allowed.
        #expect(try problems(Self.status(effective: "0000000000000400")).isEmpty)
    }

    @Test func anythingMoreIsRefused() throws {
        #expect(try problems(Self.status(uid: "995\t0\t995\t995")).contains { $0.contains("uids 995 0 995 995") })
        #expect(try problems(Self.status(effective: "0000000000003400")).contains { $0.contains("cap_net_raw") })
        #expect(try problems(Self.status(ambient: "0000000000001000")).contains { $0.contains("CapAmb") })
        #expect(try problems(Self.status(noNewPrivs: "0")).contains { $0.contains("no_new_privs") })
        #expect(try problems(Self.status(bounding: "000001ffffffffff")).contains { $0.contains("CapBnd") })
        // Started without root, the bounding set is the caller's; no_new_privs makes it harmless.
        #expect(try problems(Self.status(bounding: "000001ffffffffff"), switched: false).isEmpty)
        #expect(try problems(Self.status()).allSatisfy { $0.hasPrefix("thread 7: ") })
    }

    @Test func capabilitiesAreNamed() {
        #expect(Capabilities.text(Capabilities.kept) == "cap_net_bind_service,cap_net_admin")
        #expect(Capabilities.text(0) == "none")
    }

    @Test func onlyMoatsOwnDirectoriesAreHandedOver() {
        var rootPrivate = stat()
        rootPrivate.st_uid = 0
        rootPrivate.st_mode = S_IFDIR | 0o755
        let config = "/etc/moat"
        for path in ["/var/lib/moat", "/run/moat", "/run/moat/tmp", "/srv/moat-state", "/tmp/moat-it-1/var"] {
            #expect(Ownership.isHandedOver(path, rootPrivate, configDirectory: config), "\(path)")
        }
        for path in ["/run", "/var/lib", "/root", "/root/moat", "/etc/moat", "/usr/lib/moat", "/home/moat", "/tmp/x"] {
            #expect(!Ownership.isHandedOver(path, rootPrivate, configDirectory: config), "\(path)")
        }
        // Not the configuration's directory, nor one above it, wherever it is.
        #expect(!Ownership.isHandedOver("/srv/moat", rootPrivate, configDirectory: "/srv/moat/conf"))
        #expect(!Ownership.isHandedOver("/srv/moat/conf", rootPrivate, configDirectory: "/srv/moat/conf"))
        var someoneElses = rootPrivate
        someoneElses.st_uid = 1000
        #expect(!Ownership.isHandedOver("/var/lib/moat", someoneElses, configDirectory: config))
    }
}
