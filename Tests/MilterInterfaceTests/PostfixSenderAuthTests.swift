import DNS
import DNSResolver
import DNSTestSupport
import Foundation
import MailD
import SenderAuth
import Testing
@testable import MilterInterface

/// Sender authentication through a real Postfix: swaks sends a DKIM-signed message from an
/// address the sender's SPF record allows; Moat's milter asks a real NSD (DNSSEC-signed SPF,
/// DKIM and DMARC records) through the validating resolver, adds Authentication-Results and
/// ARC-seals what it changed; the delivered message carries both, and the seal verifies.
@Suite("Postfix + sender authentication", .serialized)
struct PostfixSenderAuthTests {
    @Test func authenticationResultsAndArcSealReachTheMailbox() async throws {
        let senderKey = try SigningKey.generate(.rsa, rsaBits: 2048)
        let sealKey = try SigningKey.generate(.rsa, rsaBits: 2048)
        let dns = try await TestDNSServer.start(zones: [
            .init("shop.test", signing: .signed, records: [
                #"@ TXT "v=spf1 ip4:127.0.0.0/8 -all""#,
                #"_dmarc TXT "v=DMARC1; p=reject""#,
                senderKey.zoneLine(selector: "s1", domain: "shop.test"),
            ]),
        ])
        defer { dns.stop() }
        let resolver = try dns.resolver()
        defer { resolver.shutdown() }
        let checks = SenderChecks(
            authenticator: SenderAuthenticator(lookup: resolver, suffixes: PublicSuffixList(text: "test\n"), timeLimit: .seconds(3600)),
            authservId: "mx.moat.test", sealer: ARCSealer(domain: "gw.moat.test", selector: "moat", key: sealKey))
        let spool = try Support.temporaryDirectory("moat-milter-core")
        let core = MailCore(scanner: Support.scanner, spoolDirectory: spool, senderChecks: checks)
        // A loaded machine must not turn the results into temperror: generous time for the check.
        let server = try await LiveServer(profile: Support.profile(rules: [
            "ADD_AUTH_RESULTS", #"dmarc fail, dmarc_policy reject : REJECT "DMARC policy of the sender""#,
        ], scanTimeout: .seconds(900)), core: core)
        let postfix = try await PrivatePostfix.start(milterPort: server.port)
        defer { postfix.stop() }

        let body = "From: Alice <alice@shop.test>\r\nTo: Bob <bob@example.org>\r\nSubject: order 42\r\n"
            + "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <order-42@shop.test>\r\n\r\nYour order has shipped.\r\n"
        let signature = try DKIMSigner(domain: "shop.test", selector: "s1", key: senderKey).sign(message: Array(body.utf8))
        // The sender forges a result in Moat's name: it must not reach the mailbox.
        let forgery = "Authentication-Results: MX.moat.test; dkim=pass header.d=bank.example\r\n"
        let sent = try await postfix.send((forgery + signature.line + body).replacingOccurrences(of: "\r\n", with: "\n"),
                                          from: "alice@shop.test")
        #expect(sent.status == 0, "\(sent.output)")
        // A forgery of the same domain, unsigned: DMARC fails and the domain asks for rejection.
        let forged = try await postfix.send(body.replacingOccurrences(of: "order 42", with: "invoice").replacingOccurrences(of: "\r\n", with: "\n"),
                                            from: "billing@elsewhere.example")
        #expect(forged.status != 0 && forged.output.contains("550 5.7.1 DMARC policy of the sender"), "\(forged.output)")

        let delivered = try #require(await postfix.delivered().first, "\(postfix.log)")
        let results = delivered.split(separator: "\n").first { $0.hasPrefix("Authentication-Results:") } ?? ""
        #expect(results.hasPrefix("Authentication-Results: mx.moat.test; spf=pass smtp.mailfrom=shop.test;"), "\(delivered)")
        #expect(results.contains("dkim=pass header.d=shop.test header.s=s1 header.a=rsa-sha256"))
        #expect(results.contains("dmarc=pass (p=reject) header.from=shop.test"))
        #expect(!delivered.contains("bank.example"), "the forged result in Moat's name was removed: \(delivered)")
        #expect(delivered.split(separator: "\n").filter { $0.hasPrefix("Authentication-Results:") }.count == 1, "one, Moat's own")
        #expect(delivered.contains("ARC-Seal: i=1;") && delivered.contains("ARC-Authentication-Results: i=1; mx.moat.test;"))
        var table = DNSTable()
        table.addTXT("moat._domainkey.gw.moat.test", sealKey.dnsRecord)
        let chain = await ARCVerifier(lookup: table).verify(message: Array(delivered.utf8))
        #expect(chain.result == .pass, "the seal Moat added verifies in the delivered message: \(chain)\n\(delivered)")
        await server.stop()
    }
}
