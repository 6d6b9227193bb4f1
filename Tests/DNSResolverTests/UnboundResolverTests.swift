import DNS
import DNSResolver
import DNSTestSupport
import Foundation
import Testing

/// The validating resolver against a real NSD serving signed, unsigned and broken zones.
@Suite(.serialized) struct UnboundResolverTests {
    static let tlsaHash = String(repeating: "ab", count: 32)
    /// Longer than one TXT string, with a quote, a backslash, a semicolon and a byte over 127.
    static let dkimText = "v=DKIM1; k=rsa; n=\"q\\\u{e9}; p=" + String(repeating: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", count: 20)

    static let zones: [TestDNSServer.Zone] = [
        .init("secure.test", signing: .signed, records: [
            #"@ TXT "v=spf1 ip4:192.0.2.0/24 -all""#,
            #"long TXT "part one " "part two""#,
            TestDNSServer.txt("dkim", Self.dkimText),
            "www A 192.0.2.10",
            "www AAAA 2001:db8::10",
            "@ MX 10 mx1.secure.test.",
            "@ MX 20 mx2.secure.test.",
            "mx1 A 192.0.2.25",
            "alias CNAME www",
            "loop1 CNAME loop2",
            "loop2 CNAME loop1",
            "_25._tcp.mx1 TLSA 3 1 1 \(tlsaHash)",
            "10.2.0.192.in-addr.arpa.secure.test. PTR www.secure.test.",
        ] + (0..<70).map { "many A 10.0.0.\($0)" }
          + (0..<100).map { "big TXT \"\(String(repeating: "x", count: 200))\($0)\"" }),
        .init("plain.test", signing: .unsigned, records: [#"@ TXT "v=spf1 -all""#, "www A 192.0.2.20"]),
        .init("broken.test", signing: .brokenSignature, records: [#"@ TXT "v=spf1 +all""#]),
        .init("expired.test", signing: .expiredSignature, records: [#"@ TXT "v=spf1 +all""#]),
    ]

    /// One server and resolver for the suite's tests that need no special set-up.
    static func withServer(_ body: (TestDNSServer, UnboundResolver) async throws -> Void) async throws {
        let server = try await TestDNSServer.start(zones: zones)
        defer { server.stop() }
        let resolver = try server.resolver()
        defer { resolver.shutdown() }
        try await body(server, resolver)
    }

    @Test func signedZoneAnswersAreSecureAndDecoded() async throws {
        try await Self.withServer { _, resolver in
            let txt = await resolver.lookup("secure.test", .txt)
            #expect(txt.security == .secure)
            #expect(txt.texts == [Array("v=spf1 ip4:192.0.2.0/24 -all".utf8)])
            #expect(txt.ttl > 0 && txt.ttl <= 300)
            let dkim = await resolver.lookup("dkim.secure.test", .txt)
            #expect(dkim.texts == [Array(Self.dkimText.utf8)])
            #expect(dkim.records.first.map { if case .txt(let strings) = $0 { strings.map(\.count) } else { [] } } == [255, 255, Self.dkimText.utf8.count - 510])
            let long = await resolver.lookup("long.secure.test", .txt)
            #expect(long.records == [.txt([Array("part one ".utf8), Array("part two".utf8)])])
            #expect(await resolver.lookup("www.secure.test", .a).records == [.a([192, 0, 2, 10])])
            #expect(await resolver.lookup("www.secure.test", .aaaa).records == [.aaaa([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x10])])
            let mx = await resolver.lookup("secure.test", .mx).records
            #expect(Set(mx) == [.mx(preference: 10, exchange: "mx1.secure.test"), .mx(preference: 20, exchange: "mx2.secure.test")])
            let tlsa = await resolver.lookup("_25._tcp.mx1.secure.test", .tlsa)
            #expect(tlsa.security == .secure)
            #expect(tlsa.records == [.tlsa(usage: 3, selector: 1, matchingType: 1, data: [UInt8](repeating: 0xab, count: 32))])
            #expect(await resolver.lookup("10.2.0.192.in-addr.arpa.secure.test", .ptr).records == [.ptr("www.secure.test")])
            #expect(await resolver.lookup("alias.secure.test", .cname).records == [.cname("www.secure.test")])
            // A CNAME is followed to the address.
            #expect(await resolver.lookup("alias.secure.test", .a).records == [.a([192, 0, 2, 10])])
        }
    }

    @Test func negativeAnswersAreProvenInTheSignedZone() async throws {
        try await Self.withServer { _, resolver in
            let missing = await resolver.lookup("nothing.secure.test", .a)
            #expect(missing.result == .nxdomain)
            #expect(missing.security == .secure)
            let noData = await resolver.lookup("www.secure.test", .mx)
            #expect(noData.result == .noData)
            #expect(noData.security == .secure)
        }
    }

    @Test func unsignedZoneIsInsecureAndBrokenOnesAreBogus() async throws {
        try await Self.withServer { _, resolver in
            let plain = await resolver.lookup("plain.test", .txt)
            #expect(plain.security == .insecure)
            #expect(plain.texts == [Array("v=spf1 -all".utf8)])
            for zone in ["broken.test", "expired.test"] {
                let answer = await resolver.lookup(zone, .txt)
                guard case .bogus(let why) = answer.security else {
                    Issue.record("\(zone): \(answer.security), want bogus")
                    continue
                }
                #expect(answer.isTemporaryFailure, "a bogus answer gives no records")
                #expect(answer.records.isEmpty)
                // libunbound's reason reaches the caller (val-log-level 2), e.g. "validation
                // failure <broken.test. TXT IN>: ECDSA signature verification failed from ...".
                #expect(why.contains(zone == "broken.test" ? "signature verification failed" : "signature expired"), "\(why)")
            }
        }
    }

    @Test func loopingCNAMEsAndOversizeAnswersAreTemporaryFailures() async throws {
        try await Self.withServer { _, resolver in
            let loop = await resolver.lookup("loop1.secure.test", .a)
            #expect(loop.isTemporaryFailure, "\(loop)")
            let many = await resolver.lookup("many.secure.test", .a)
            #expect(many.isTemporaryFailure, "70 records > 64: \(many)")
            let big = await resolver.lookup("big.secure.test", .txt)
            #expect(big.isTemporaryFailure, "about 20 KB of TXT > 16 KB: \(big)")
        }
    }

    @Test func answersStayCachedForTheirTTLWhenTheServerIsGone() async throws {
        let server = try await TestDNSServer.start(zones: Self.zones)
        let resolver = try server.resolver(timeout: .seconds(2))
        defer { resolver.shutdown() }
        #expect(await resolver.lookup("www.plain.test", .a).records == [.a([192, 0, 2, 20])])
        server.stop()
        #expect(await resolver.lookup("www.plain.test", .a).records == [.a([192, 0, 2, 20])])
        #expect(await resolver.lookup("nothing-cached.plain.test", .a).isTemporaryFailure)
    }

    @Test func manyConcurrentLookupsWithCancellationsAllEnd() async throws {
        try await Self.withServer { _, resolver in
            let names = ["www.secure.test", "www.plain.test", "nothing.secure.test", "broken.test", "loop1.secure.test"]
            let answers = await withTaskGroup(of: (Int, DNSAnswer).self) { group in
                for index in 0..<300 {
                    group.addTask {
                        let name = "\(index % 7 == 0 ? "x\(index)." : "")\(names[index % names.count])"
                        return (index, await resolver.lookup(name, index % 2 == 0 ? .a : .txt))
                    }
                }
                var collected: [Int: DNSAnswer] = [:]
                for await (index, answer) in group { collected[index] = answer }
                return collected
            }
            #expect(answers.count == 300)
            #expect(answers[10]?.records == [.a([192, 0, 2, 10])])
            #expect(answers[19]?.isTemporaryFailure == true)  // the CNAME loop
            #expect(answers[0]?.result == .nxdomain)
            // Cancelled ones end too, answered at once or with their answer.
            let tasks = (0..<50).map { index in Task { await resolver.lookup("c\(index).plain.test", .a) } }
            for (index, task) in tasks.enumerated() where index % 2 == 0 { task.cancel() }
            for task in tasks { _ = await task.value }
            #expect(await resolver.lookup("www.plain.test", .a).records == [.a([192, 0, 2, 20])])
        }
    }

    @Test func namesWithZoneFileSyntaxAreQueriedLiterallyOrRefused() async throws {
        try await Self.withServer { _, resolver in
            for name in [#"a b.plain.test"#, #"x\"y;z.plain.test"#, #"back\\slash.plain.test"#, "(paren).plain.test"] {
                #expect(await resolver.lookup(name, .a).result == .nxdomain, "\(name)")
            }
            #expect(await resolver.lookup("a..plain.test", .a).result == .nxdomain)
            #expect(await resolver.lookup(String(repeating: "l", count: 64) + ".plain.test", .a).result == .nxdomain)
        }
    }
}
