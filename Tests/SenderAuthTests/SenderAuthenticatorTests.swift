import DNS
import DNSResolver
import DNSTestSupport
import Foundation
import Testing
@testable import SenderAuth

/// Every check MailD runs, together, end to end: NSD serving DNSSEC-signed SPF, DKIM, DMARC
/// and blocklist records, the validating resolver asking, a message signed by dkimpy.
@Suite(.serialized) struct SenderAuthenticatorTests {
    static let message = Fixtures.bytes(Fixtures.plainMessage.replacingOccurrences(of: "example.org", with: "shop.test"))

    static func zones(key: SigningKey) -> [TestDNSServer.Zone] {
        [
            .init("shop.test", signing: .signed, records: [
                #"@ TXT "v=spf1 ip4:192.0.2.25 -all""#,
                #"_dmarc TXT "v=DMARC1; p=reject; adkim=r; aspf=r""#,
                key.zoneLine(selector: "s1", domain: "shop.test"),
            ]),
            .init("bl.test", signing: .signed, records: ["66.2.0.192 A 127.0.0.2"]),
            .init("uribl.test", signing: .signed, records: ["phish.example A 127.0.0.4"]),
        ]
    }

    static func run(_ body: (SenderAuthenticator, [UInt8]) async throws -> Void) async throws {
        var py = try Dkimpy()
        defer { py.remove() }
        let key = try SigningKey.generate(.ed25519)
        let keyFile = try py.add(key, selector: "s1", domain: "shop.test")
        let signed = try py.dkimsign(message, selector: "s1", domain: "shop.test", keyFile: keyFile,
                                     header: "relaxed", body: "relaxed", algorithm: "ed25519-sha256")
        let server = try await TestDNSServer.start(zones: zones(key: key))
        defer { server.stop() }
        let resolver = try server.resolver(timeout: .seconds(5))
        defer { resolver.shutdown() }
        let authenticator = SenderAuthenticator(
            lookup: resolver, suffixes: PublicSuffixList(text: "test\n"),
            dnsBlocklists: [BlocklistZone(zone: "bl.test", meanings: [(.address([127, 0, 0, 2]), "SBL")])],
            uriBlocklists: [BlocklistZone(zone: "uribl.test")], receiver: "mx.moat.test",
            // Results, not timing: the time limit has a test of its own below.
            timeLimit: .seconds(3600))
        try await body(authenticator, signed)
    }

    static func context(_ message: [UInt8], ip: String, urlHosts: [String] = []) -> SenderContext {
        SenderContext(clientIP: ip, helo: "out.shop.test", mailFrom: "alice@shop.test", message: message, urlHosts: urlHosts)
    }

    @Test func theSendersOwnMailPassesEverything() async throws {
        try await Self.run { authenticator, signed in
            let auth = await authenticator.authenticate(Self.context(signed, ip: "192.0.2.25"), deadline: .now + .seconds(60))
            #expect(auth.spf?.result == .pass)
            #expect(auth.dkim.map(\.result) == [.pass])
            #expect(auth.dmarc?.result == .pass)
            #expect(auth.dmarc?.policy == .reject)
            #expect(auth.arc?.result == ARCResult.none)
            #expect(auth.dnsbl.isEmpty && auth.uribl.isEmpty)
        }
    }

    @Test func aForgeryFromAListedClientFailsDmarcAndIsListed() async throws {
        try await Self.run { authenticator, signed in
            let forged = Fixtures.bytes(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "noon", with: "the bank"))
            let auth = await authenticator.authenticate(Self.context(forged, ip: "192.0.2.66", urlHosts: ["www.phish.example"]),
                                                        deadline: .now + .seconds(60))
            #expect(auth.spf?.result == .fail)
            #expect(auth.dkim.map(\.result) == [.fail])
            #expect(auth.dmarc?.result == .fail)
            #expect(auth.dmarc?.policy == .reject)
            #expect(auth.dnsbl.map(\.meanings) == [["SBL"]])
            #expect(auth.uribl.map(\.listed) == ["phish.example"])
        }
    }

    @Test func aDeadlineAlreadyPassedAnswersAtOnceWithTemperror() async throws {
        try await Self.run { authenticator, signed in
            let auth = await authenticator.authenticate(Self.context(signed, ip: "192.0.2.25"), deadline: .now - .seconds(1))
            #expect(auth.spf?.result == .temperror)
            #expect(auth.dmarc == nil)
        }
    }
}
