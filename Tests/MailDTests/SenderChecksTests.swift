import DNS
import Foundation
import Policy
import SenderAuth
import Synchronization
import Testing
@testable import MailD

/// How MailD uses sender authentication: which paths are checked, what the rules and the spam
/// score see, the Authentication-Results header. The checks themselves (SPF, DKIM, ...) are
/// tested in SenderAuthTests against real DNS and real signers; here a fixed answer stands in.
@Suite struct SenderChecksTests {
    final class FixedAuthenticator: SenderAuthenticating {
        let answer: SenderAuthentication
        let seen = Mutex<[SenderContext]>([])
        init(_ answer: SenderAuthentication) { self.answer = answer }
        func authenticate(_ context: SenderContext, deadline: ContinuousClock.Instant) async -> SenderAuthentication {
            seen.withLock { $0.append(context) }
            return answer
        }
    }

    static let forged = SenderAuthentication(
        spf: SPFCheck(result: .fail, domain: "bank.example"),
        dkim: [DKIMSignatureCheck(result: .fail, domain: "bank.example", selector: "s1", algorithm: "rsa-sha256",
                                  signaturePrefix: "abcdEFGH", reason: "body hash did not verify")],
        dmarc: DMARCCheck(result: .fail, fromDomain: "bank.example", policyDomain: "bank.example", policy: .reject),
        dnsbl: [BlocklistHit(zone: "bl.example", listed: "192.0.2.7", codes: ["127.0.0.2"], meanings: ["SBL"])])

    static let message = Array("From: Bank <service@bank.example>\r\nSubject: verify\r\n\r\nHello\r\n".utf8)

    func decide(_ auth: FixedAuthenticator, rules: [String], source: Envelope.Source = .milter) async -> Decision {
        let core = MailCore(scanner: SharedCore.scanner, spoolDirectory: FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-spool-\(UUID().uuidString)").path,
                            senderChecks: SenderChecks(authenticator: auth, authservId: "mx.moat.test"))
        let envelope = Envelope(source: source, sender: "<service@bank.example>", recipients: ["<bob@example.org>"],
                                helo: "mail.bank.example", clientAddress: "192.0.2.7")
        return await core.decide(envelope: envelope, message: .bytes(Self.message),
                                 profile: CheckProfile(name: "Milter", limits: SharedCore.limits, rules: rules))
    }

    @Test func dmarcRejectRuleRejectsAForgedSender() async {
        let auth = FixedAuthenticator(Self.forged)
        let decision = await decide(auth, rules: [#"dmarc fail, dmarc_policy reject : REJECT "DMARC policy of the sender""#])
        #expect(decision.action == .reject("DMARC policy of the sender"))
        let context = auth.seen.withLock { $0.first }
        #expect(context?.mailFrom == "service@bank.example")
        #expect(context?.clientIP == "192.0.2.7")
        #expect(context?.helo == "mail.bank.example")
        #expect(context?.message == Self.message)
    }

    @Test func failuresRaiseTheSpamScoreAsSymbols() async {
        let decision = await decide(FixedAuthenticator(Self.forged), rules: [])
        let names = Set(decision.report.spam?.symbols.map(\.name) ?? [])
        #expect(names.isSuperset(of: ["SPF_FAIL", "DKIM_INVALID", "DMARC_POLICY_REJECT", "RBL_SBL"]))
        #expect((decision.report.spam?.points ?? 0) >= 8)
        let plain = await decide(FixedAuthenticator(SenderAuthentication()), rules: [])
        #expect((decision.report.spam?.totalSpamScore ?? 0) > (plain.report.spam?.totalSpamScore ?? 1))
    }

    @Test func spamdMessagesHaveNoEnvelopeSoNoSenderFacts() async {
        let auth = FixedAuthenticator(Self.forged)
        let decision = await decide(auth, rules: ["dmarc fail : REJECT", "not dmarc pass : TEMPFAIL"], source: .spamd)
        #expect(decision.action == .tempfail(nil))
        #expect(decision.report.senderAuthentication == nil)
        #expect(auth.seen.withLock { $0.isEmpty })
    }

    @Test func addAuthResultsAddsTheHeaderEvenWhenRejecting() async {
        let decision = await decide(FixedAuthenticator(Self.forged), rules: ["ADD_AUTH_RESULTS", "dmarc fail : REJECT"])
        let header = decision.headersToAdd.first { $0.name == "Authentication-Results" }
        #expect(header?.value == "mx.moat.test; spf=fail smtp.mailfrom=bank.example; "
            + "dkim=fail reason=\"body hash did not verify\" header.d=bank.example header.s=s1 header.a=rsa-sha256 header.b=abcdEFGH; "
            + "dmarc=fail (p=reject) header.from=bank.example")
    }

    @Test func resultsClaimingMoatsNameAreFoundForRemovalOthersStay() async {
        let message = Array(("Authentication-Results: other.example; spf=pass\r\n"
            + "Authentication-Results: MX.moat.test ; dkim=pass header.d=bank.example\r\n"
            + "authentication-results: mx.moat.test; dmarc=pass\r\n").utf8) + Self.message
        let core = MailCore(scanner: SharedCore.scanner, spoolDirectory: FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-spool-\(UUID().uuidString)").path,
                            senderChecks: SenderChecks(authenticator: FixedAuthenticator(Self.forged), authservId: "mx.moat.test"))
        let envelope = Envelope(source: .milter, sender: "<service@bank.example>", clientAddress: "192.0.2.7")
        let decision = await core.decide(envelope: envelope, message: .bytes(message),
                                         profile: CheckProfile(name: "Milter", limits: SharedCore.limits, rules: ["ADD_AUTH_RESULTS"]))
        #expect(decision.forgedAuthenticationResults == [2, 3])
        let quiet = await core.decide(envelope: envelope, message: .bytes(message),
                                      profile: CheckProfile(name: "Milter", limits: SharedCore.limits, rules: []))
        #expect(quiet.forgedAuthenticationResults.isEmpty, "only when Moat adds its own")
    }

    @Test func withoutChecksTheHeaderSaysNone() async {
        let core = try! SharedCore.core()
        let decision = await core.decide(envelope: Envelope(source: .milter), message: .bytes(Self.message),
                                         profile: CheckProfile(name: "Milter", limits: SharedCore.limits, rules: ["ADD_AUTH_RESULTS"]))
        let value = decision.headersToAdd.first { $0.name == "Authentication-Results" }?.value
        #expect(value?.hasSuffix("; none") == true)
    }
}

/// Values from DNS and the message cannot forge results in the header.
@Suite struct AuthenticationResultsHeaderTests {
    @Test func hostileDomainIsQuotedNotParsedAsAResult() {
        let auth = SenderAuthentication(dkim: [DKIMSignatureCheck(result: .fail, domain: "evil.example; dkim=pass",
                                                                  selector: "s\"1", algorithm: "rsa-sha256")])
        let value = AuthenticationResultsHeader.value(authservId: "mx.moat.test", auth)
        #expect(value == #"mx.moat.test; dkim=fail header.d="evil.example; dkim=pass" header.s="s\"1" header.a=rsa-sha256"#)
    }

    @Test func controlCharactersNeverReachTheHeader() {
        let auth = SenderAuthentication(spf: SPFCheck(result: .pass, domain: "a\r\nX-Injected: yes"))
        let value = AuthenticationResultsHeader.value(authservId: "mx", auth)
        #expect(!value.contains("\r") && !value.contains("\n"))
    }
}

/// Moat's ARC seal on what it changes, checked by Moat's own ARC verifier against the
/// published key (dkimpy's arcverify checks the sealer itself in SenderAuthTests).
@Suite struct ARCSealingTests {
    static let key = try! SigningKey.generate(.rsa, rsaBits: 2048)

    static func core() -> MailCore {
        let sealer = ARCSealer(domain: "gw.moat.test", selector: "moat", key: key)
        return MailCore(scanner: SharedCore.scanner, spoolDirectory: FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-spool-\(UUID().uuidString)").path,
                        senderChecks: SenderChecks(authenticator: SenderChecksTests.FixedAuthenticator(
                            SenderAuthentication(spf: SPFCheck(result: .pass, domain: "shop.example"), arc: ARCCheck(result: .none))),
                                                   authservId: "gw.moat.test", sealer: sealer))
    }

    static var table: DNSTable {
        var table = DNSTable()
        table.addTXT("moat._domainkey.gw.moat.test", key.dnsRecord)
        return table
    }

    static let message = Array("From: a@shop.example\r\nTo: b@example.org\r\nSubject: hi\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nHello\r\n".utf8)

    func decide(_ message: [UInt8], rules: [String], source: Envelope.Source = .milter) async -> Decision {
        let envelope = Envelope(source: source, sender: "<a@shop.example>", recipients: ["<b@example.org>"], clientAddress: "192.0.2.25")
        return await Self.core().decide(envelope: envelope, message: .bytes(message),
                                        profile: CheckProfile(name: "Milter", limits: SharedCore.limits, rules: rules))
    }

    @Test func addedHeadersAreSealedAndTheSealVerifies() async {
        let decision = await decide(Self.message, rules: [#"ADD_HEADER("X-Moat", "checked"), ADD_AUTH_RESULTS"#])
        #expect(decision.sealHeaders.map(\.name) == ["ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results"])
        let aar = decision.sealHeaders.last?.value() ?? ""
        #expect(aar.contains("i=1") && aar.contains("gw.moat.test; spf=pass smtp.mailfrom=shop.example"))
        let delivered = Array((decision.sealHeaders.map(\.line) + decision.addedHeaders.map(\.line)).joined().utf8) + Self.message
        let chain = await ARCVerifier(lookup: Self.table).verify(message: delivered)
        #expect(chain.result == .pass, "\(chain)")
        #expect(chain.instances == 1)
        // Changed after sealing: the seal no longer holds.
        let tampered = delivered + Array("P.S. pay now\r\n".utf8)
        #expect(await ARCVerifier(lookup: Self.table).verify(message: tampered).result == .fail)
    }

    @Test func aRepackedMessageIsSealedAsDelivered() async throws {
        let decision = await decide(Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com"),
                                    rules: ["threat_category in (KnownVirus) : REPACK"])
        let repacked = try #require(decision.repackedMessage)
        #expect(decision.sealHeaders.count == 3)
        let delivered = Array(decision.sealHeaders.map(\.line).joined().utf8) + repacked
        #expect(await ARCVerifier(lookup: Self.table).verify(message: delivered).result == .pass)
    }

    @Test func unchangedRefusedOrUnsealablePathsGetNoSeal() async {
        #expect(await decide(Self.message, rules: []).sealHeaders.isEmpty, "nothing changed")
        #expect(await decide(Self.message, rules: [#"ADD_HEADER("X-Moat", "x"), REJECT"#]).sealHeaders.isEmpty, "not delivered")
        #expect(await decide(Self.message, rules: [#"ADD_HEADER("X-Moat", "x")"#], source: .spamd).sealHeaders.isEmpty,
                "spamd's client adds the header itself")
    }
}
