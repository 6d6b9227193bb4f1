import DNS
import Testing
@testable import SenderAuth

@Suite struct BlocklistTests {
    @Test func zoneListSyntax() throws {
        let zones = try BlocklistZone.parseList("zen.example(127.0.0.2:SBL,127.0.0.4:XBL), bl.example , multi.uribl.example(&2:black, &4:grey)")
        #expect(zones.map(\.zone) == ["zen.example", "bl.example", "multi.uribl.example"])
        #expect(zones[0].meanings.map(\.meaning) == ["SBL", "XBL"])
        #expect(zones[2].meanings.map(\.code) == [.bit(2), .bit(4)])
        #expect(try BlocklistZone.parseList("").isEmpty)
        for bad in ["zen.example(127.0.0.2)", "zen.example(127.0.0:SBL)", "zen(127.0.0.2:SBL)", "a.example((x", "a.example(&0:x)",
                    "bad zone.example", "a.example(127.0.0.2:SBL)x"] {
            #expect(throws: BlocklistZone.SyntaxError.self, "\(bad)") { try BlocklistZone.parseList(bad) }
        }
    }

    @Test func reversedNamesForBothFamilies() async {
        var table = DNSTable()
        table.add("4.3.2.1.bl.example", .a, .a([127, 0, 0, 2]))
        table.add("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example", .a, .a([127, 0, 0, 2]))
        let checker = BlocklistChecker(lookup: table, zones: [BlocklistZone(zone: "bl.example")])
        #expect(await checker.check(clientIP: "1.2.3.4").map(\.listed) == ["1.2.3.4"])
        #expect(await checker.check(clientIP: "2001:db8::1").map(\.listed) == ["2001:db8::1"])
        #expect(await checker.check(clientIP: "::ffff:1.2.3.4").map(\.listed) == ["1.2.3.4"])
        #expect(await checker.check(clientIP: "not an address").isEmpty)
    }

    @Test func hostsAreDeduplicatedBoundedAndGetTheirRegisteredDomain() {
        let hosts = BlocklistChecker.candidates(["A.b.Example.com.", "example.com", "[192.0.2.1]", "x.example.com"],
                                                maxHosts: 4, registeredDomain: BlocklistChecker.lastTwoLabels)
        #expect(hosts == ["a.b.example.com", "example.com", "192.0.2.1", "x.example.com"])
        let many = BlocklistChecker.candidates((0..<50).map { "h\($0).example.org" }, maxHosts: 20, registeredDomain: { _ in nil })
        #expect(many.count == 20)
    }

    @Test func answersOutsideLoopbackOrFromTheErrorRangeAreNoListing() {
        let zone = BlocklistZone(zone: "bl.example", meanings: [(.address([127, 0, 0, 2]), "SBL")])
        #expect(zone.listing([[192, 0, 2, 1]]) == nil)
        #expect(zone.listing([[127, 255, 255, 254]]) == nil)
        #expect(zone.listing([[127, 0, 0, 2]])?.meanings == ["SBL"])
        #expect(zone.listing([[127, 0, 0, 9]])?.meanings == ["bl.example"])
    }
}
