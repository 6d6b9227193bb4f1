import Foundation
import MoatConfig
import Policy
import Testing
@testable import MailD

/// From check to verdict: the seed's rules, and BlockUnchecked where no rule decided.
@Suite struct DecisionTests {
    static let seedRules = [
        #"threat_category in (KnownVirus, VirusModification, UnknownVirus) : REJECT "The message contains a THREAT""#,
        #"body match (".*buy.*") : REJECT "This is a SPAM message""#,
    ]

    func decide(_ message: [UInt8], rules: [String] = seedRules, blockUnchecked: Bool = false,
                envelope: Envelope = Envelope(source: .milter, sender: "<alice@example.com>", recipients: ["<bob@example.org>"])) async throws -> Decision {
        let profile = CheckProfile(name: "Spamd", limits: SharedCore.limits, blockUnchecked: blockUnchecked, rules: rules)
        return await try SharedCore.core().decide(envelope: envelope, message: .bytes(message), profile: profile)
    }

    @Test func seedThreatRuleRejectsWithItsText() async throws {
        let decision = try await decide(Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com"))
        #expect(decision.action == .reject("The message contains a THREAT"))
        #expect(decision.verdict.decidingRule?.index == 0)
        #expect(decision.reason.contains("MailD.SpamdRuleSet rule 1"))
    }

    @Test func seedSpamRuleMatchesTheBody() async throws {
        let message = Array("From: x@example.com\r\nSubject: offer\r\n\r\nPlease buy our pills today.\r\n".utf8)
        let decision = try await decide(message)
        #expect(decision.action == .reject("This is a SPAM message"))
        #expect(decision.verdict.decidingRule?.index == 1)
    }

    @Test func theDefaultSpamScoreRuleRejectsGTUBE() async throws {
        let gtube = Array("From: x@example.com\r\nSubject: test\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n".utf8)
        let rules = [#"total_spam_score gt 0.80 : REJECT "This is a SPAM message""#]
        let decision = try await decide(gtube, rules: rules)
        #expect(decision.action == .reject("This is a SPAM message"))
        #expect(decision.report.spam?.symbols.first?.name == "GTUBE")
        let lunch = try await decide(Array("From: x@example.com\r\nSubject: lunch\r\n\r\nNoon?\r\n".utf8), rules: rules)
        #expect(lunch.action == .pass, "a few header findings are far from 0.80")
        #expect((lunch.report.spam?.totalSpamScore ?? 1) < 0.5)
    }

    @Test func spamSymbolsReachTheRules() async throws {
        let html = Array("""
            From: x@example.com\r\nSubject: account\r\nContent-Type: text/html\r\n\r\n\
            <p>Log in at <a href="http://198.51.100.7/login">www.bank.example</a></p>\r\n
            """.utf8)
        let rules = [#"spam_symbols in (URL_HOST_MISMATCH) : REJECT "Phishing""#]
        #expect(try await decide(html, rules: rules).action == .reject("Phishing"))
        #expect(try await decide(Array("From: x@example.com\r\nSubject: lunch\r\n\r\nNoon?\r\n".utf8), rules: rules).action == .pass)
    }

    @Test func cleanMessagePasses() async throws {
        let decision = try await decide(Array("From: x@example.com\r\nSubject: lunch\r\n\r\nNoon?\r\n".utf8))
        #expect(decision.action == .pass)
        #expect(decision.report.status == .clean)
        #expect(decision.reason == "clean")
    }

    @Test func envelopeFactsReachTheRules() async throws {
        let rules = [#"from in ("alice@example.com"), to in ("bob@example.org") : ADD_HEADER("X-Moat", "seen"), PASS"#]
        let decision = try await decide(Array("Subject: hi\r\n\r\nhello\r\n".utf8), rules: rules)
        #expect(decision.action == .pass)
        #expect(decision.headersToAdd.map(\.name) == ["X-Moat"])
    }

    @Test func blockUncheckedRefusesAnEncryptedArchiveForGood() async throws {
        let zip = try Fixtures.zip(["a.doc": Array(repeating: 0x41, count: 1000)], password: "x")
        let message = Fixtures.messageWithAttachment(zip, filename: "a.zip", type: "application/zip")
        let passed = try await decide(message, blockUnchecked: false)
        #expect(passed.action == .pass, "BlockUnchecked = No lets it through, reported unchecked")
        #expect(passed.report.status == .unchecked)
        let blocked = try await decide(message, blockUnchecked: true)
        #expect(blocked.action == .reject(UncheckedPolicy.rejectText))
        #expect(blocked.reason == "BlockUnchecked: encrypted")
    }

    @Test func aRuleOnUncheckedWinsOverBlockUnchecked() async throws {
        let zip = try Fixtures.zip(["a.doc": Array(repeating: 0x41, count: 1000)], password: "x")
        let message = Fixtures.messageWithAttachment(zip, filename: "a.zip", type: "application/zip")
        let decision = try await decide(message, rules: ["unchecked_reason in (Encrypted) : PASS"], blockUnchecked: true)
        #expect(decision.action == .pass)
    }
}

/// The gateway's Block* switches decide when its rules do not.
@Suite struct BlockSwitchTests {
    func decide(_ ini: String) async throws -> Decision {
        let values = try ConfigLoader().load(text: ini).values
        var profile = CheckProfile.linuxFirewall(values)
        profile.limits.scanTimeout = SharedCore.limits.scanTimeout
        return await try SharedCore.core().decide(envelope: Envelope(source: .smtp),
            message: .bytes(Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")), profile: profile)
    }

    @Test func knownVirusIsBlockedByDefault() async throws {
        let decision = try await decide("[LinuxFirewall]\n")
        #expect(decision.action == .reject("The message contains a THREAT"))
        #expect(decision.reason == "Block switches: KnownVirus")
    }

    @Test func switchedOffItPasses() async throws {
        let decision = try await decide("[LinuxFirewall]\nBlockKnownVirus = No\n")
        #expect(decision.action == .pass)
        #expect(decision.report.status == .threat)
    }
}
