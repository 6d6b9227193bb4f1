import DNS
import DNSResolver
import DNSTestSupport
import Testing
@testable import SenderAuth

/// SPF and the blocklists end to end: NSD serving the records, the validating resolver asking.
@Suite(.serialized) struct SenderAuthDNSTests {
    static let zones: [TestDNSServer.Zone] = [
        .init("sender.test", signing: .signed, records: [
            #"@ TXT "v=spf1 mx a:out.sender.test include:partner.test exists:%{ir}.allow.sender.test redirect=fallback.sender.test""#,
            "@ MX 10 mx.sender.test.",
            "mx A 192.0.2.25",
            "out A 192.0.2.26",
            "out AAAA 2001:db8::26",
            "9.100.51.198.allow A 127.0.0.2",
            #"fallback TXT "v=spf1 ip6:2001:db8:1::/48 -all exp=why.sender.test""#,
            #"why TXT "%{i} may not send for %{d}""#,
            #"loop TXT "v=spf1 include:loop.sender.test -all""#,
        ]),
        .init("partner.test", signing: .unsigned, records: [#"@ TXT "v=spf1 ip4:203.0.113.0/24 ~all""#]),
        .init("forged.test", signing: .brokenSignature, records: [#"@ TXT "v=spf1 +all""#]),
        .init("bl.test", signing: .signed, records: [
            "2.0.0.127 A 127.0.0.2",
            "7.2.0.192 A 127.0.0.4",
            "7.2.0.192 A 127.0.0.10",
            "\(SPFAddress("2001:db8::7")!.reversedLabels) A 127.0.0.3",
            "1.2.0.192 A 127.255.255.254",
        ]),
        .init("uribl.test", signing: .unsigned, records: [
            "spam.example A 127.0.0.2",
            "www.grey.example A 127.0.0.4",
            "4.3.2.1 A 127.0.0.8",
        ]),
    ]

    static func withResolver(_ body: (UnboundResolver) async throws -> Void) async throws {
        let server = try await TestDNSServer.start(zones: zones)
        defer { server.stop() }
        let resolver = try server.resolver(timeout: .seconds(2))
        defer { resolver.shutdown() }
        try await body(resolver)
    }

    @Test func spfThroughTheRealResolver() async throws {
        try await Self.withResolver { resolver in
            let spf = SPFChecker(lookup: resolver)
            func result(_ ip: String, _ sender: String = "user@sender.test") async -> SPFCheck {
                await spf.check(ip: ip, sender: sender, helo: "client.example")
            }
            #expect(await result("192.0.2.25").result == .pass)       // mx
            #expect(await result("192.0.2.26").result == .pass)       // a:
            #expect(await result("2001:db8::26").result == .pass)     // a: over AAAA
            #expect(await result("203.0.113.5").result == .pass)      // include: pass
            #expect(await result("198.51.100.9").result == .pass)     // exists: with %{ir}
            #expect(await result("2001:db8:1::5").result == .pass)    // redirect=
            let fail = await result("198.51.100.10")
            #expect(fail.result == .fail)
            #expect(fail.exp == "198.51.100.10 may not send for fallback.sender.test")
            #expect(await result("192.0.2.1", "user@loop.sender.test").result == .permerror)
            #expect(await result("192.0.2.1", "user@nothing.sender.test").result == .none)
            // A bogus answer is no answer: temperror, never the forged "+all".
            #expect(await result("192.0.2.1", "user@forged.test").result == .temperror)
        }
    }

    @Test func anUnansweredIncludeIsATemperrorWithinTheDeadline() async throws {
        let silent = try SilentDNSServer()
        defer { silent.stop() }
        // The silent server is the only upstream: every query would wait for the resolver's
        // two minutes; the check's deadline of one second cancels it.
        let resolver = try UnboundResolver(TestDNSServer.configuration(port: silent.port, timeout: .seconds(120)))
        defer { resolver.shutdown() }
        let started = ContinuousClock.now
        let check = await SPFChecker(lookup: resolver, deadline: .seconds(1)).check(ip: "192.0.2.1", sender: "a@slow.test", helo: "h")
        #expect(check.result == .temperror)
        #expect(ContinuousClock.now - started < .seconds(60))
        // The blocklists too: the deadline ends them, a silent list lists nothing.
        let blocklists = BlocklistChecker(lookup: resolver, zones: [BlocklistZone(zone: "bl.test")],
                                          uriZones: [BlocklistZone(zone: "uribl.test")], deadline: .seconds(1))
        let again = ContinuousClock.now
        #expect(await blocklists.check(clientIP: "192.0.2.1", urlHosts: ["a.example", "b.example"]).isEmpty)
        #expect(ContinuousClock.now - again < .seconds(60))
    }

    @Test func blocklistsThroughTheRealResolver() async throws {
        try await Self.withResolver { resolver in
            let zones = try BlocklistZone.parseList("bl.test(127.0.0.2:SBL, 127.0.0.4:XBL, 127.0.0.10:PBL), missing.test")
            let uri = try BlocklistZone.parseList("uribl.test(&2:black,&4:grey)")
            let checker = BlocklistChecker(lookup: resolver, zones: zones, uriZones: uri)
            #expect(await checker.check(clientIP: "127.0.0.2") == [
                BlocklistHit(zone: "bl.test", listed: "127.0.0.2", codes: ["127.0.0.2"], meanings: ["SBL"]),
            ])
            let both = await checker.check(clientIP: "192.0.2.7")
            #expect(both.count == 1)
            #expect(Set(both.first?.meanings ?? []) == ["XBL", "PBL"])
            #expect(await checker.check(clientIP: "2001:db8::7").first?.meanings == ["bl.test"])
            // 127.255.255.x is the list refusing to answer, not a listing.
            #expect(await checker.check(clientIP: "192.0.2.1").isEmpty)
            #expect(await checker.check(clientIP: "198.51.100.1").isEmpty)
            let urls = await checker.check(clientIP: nil, urlHosts: ["WWW.Spam.Example", "www.grey.example", "ok.example", "1.2.3.4"])
            #expect(urls == [
                BlocklistHit(zone: "uribl.test", listed: "spam.example", codes: ["127.0.0.2"], meanings: ["black"]),
                BlocklistHit(zone: "uribl.test", listed: "www.grey.example", codes: ["127.0.0.4"], meanings: ["grey"]),
                BlocklistHit(zone: "uribl.test", listed: "1.2.3.4", codes: ["127.0.0.8"], meanings: ["uribl.test"]),
            ])
        }
    }
}
