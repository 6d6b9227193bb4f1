import Foundation
import MailD
import Policy
import Testing
@testable import MilterInterface

/// Real Postfix with `smtpd_milters` pointing at Moat, mail sent with swaks.
@Suite("Postfix + swaks", .serialized)
struct PostfixTests {
    typealias S = Support

    static let clean = """
        From: Alice <alice@example.com>
        To: Bob <bob@example.org>
        Subject: lunch
        Message-ID: <clean-postfix@example.com>
        Date: Wed, 25 Nov 2026 10:00:00 +0000
        X-Folded: first
        \tsecond line

        Shall we meet at noon?
        100% sure.

        """

    static func eicar(_ id: String) -> String {
        S.eicarMessage(subject: "the file").replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "Subject: the file", with: "Subject: the file\nMessage-ID: <\(id)@example.com>")
    }

    /// Clean mail is delivered byte for byte as sent (below Postfix's own trace headers); an
    /// EICAR message is refused at the end of DATA with the rule's text; under every
    /// milter_protocol Postfix speaks.
    @Test(arguments: [6, 2, 3, 4])
    func cleanDeliveredUnchangedAndEicarRejected(milterProtocol: Int) async throws {
        let server = try await LiveServer()
        let postfix = try await PrivatePostfix.start(milterPort: server.port, milterProtocol: milterProtocol)
        defer { postfix.stop() }
        let sent = try await postfix.send(Self.clean)
        #expect(sent.status == 0, "\(sent.output)")
        let infected = try await postfix.send(Self.eicar("eicar-\(milterProtocol)"))
        #expect(infected.status != 0)
        #expect(infected.output.contains("550 5.7.1 The message contains a THREAT"), "\(infected.output)")
        let delivered = await postfix.delivered()
        #expect(delivered.count == 1, "\(postfix.log)")
        if let message = delivered.first {
            #expect(trimmed(message).hasSuffix(trimmed(Self.clean)), "delivered:\n\(message)")
        }
        // Only the clean message arrived, a little later nothing more.
        try await Task.sleep(for: .milliseconds(300))
        #expect(await postfix.delivered(count: 2, seconds: 0.5).count == 1)
        #expect(!postfix.log.contains("warning: milter"), "\(postfix.log)")
        await server.stop()
    }

    /// Unchecked mail follows MilterBlockUnchecked: a message over the size limit is refused
    /// (550) with BlockUnchecked = Yes and delivered with No.
    @Test(arguments: [true, false])
    func uncheckedFollowsBlockUnchecked(block: Bool) async throws {
        var options = MilterInterface.Options()
        options.maxMessageSize = 2000
        let server = try await LiveServer(profile: S.profile(blockUnchecked: block), options: options)
        let postfix = try await PrivatePostfix.start(milterPort: server.port)
        defer { postfix.stop() }
        let big = Self.clean + String(repeating: "filler line of text to pass the limit\n", count: 200)
        let result = try await postfix.send(big)
        if block {
            #expect(result.status != 0)
            #expect(result.output.contains("550 5.7.1 The message could not be checked"), "\(result.output)")
            #expect(await postfix.delivered(seconds: 1).isEmpty)
        } else {
            #expect(result.status == 0, "\(result.output)")
            #expect(await postfix.delivered().first.map { trimmed($0).hasSuffix(trimmed(big)) } == true)
        }
        await server.stop()
    }

    /// A scan that outlasts MilterScanTimeout: with BlockUnchecked the MTA gets 451 (retry
    /// later) from Moat, before its own milter timeouts.
    @Test func scanTimeoutTempfailsWithBlockUnchecked() async throws {
        var options = MilterInterface.Options()
        options.timeoutGrace = .milliseconds(200)
        options.progressInterval = .milliseconds(300)
        options.decide = { core, envelope, message, profile in
            try? await Task.sleep(for: .seconds(3))
            return await core.decide(envelope: envelope, message: message, profile: profile)
        }
        let server = try await LiveServer(profile: S.profile(blockUnchecked: true, scanTimeout: .seconds(1)), options: options)
        let postfix = try await PrivatePostfix.start(milterPort: server.port)
        defer { postfix.stop() }
        let result = try await postfix.send(Self.clean)
        #expect(result.status != 0)
        #expect(result.output.contains("451 4.7.1 The message could not be checked now, try again later"), "\(result.output)")
        #expect(server.log.lines.contains { $0.contains("MilterScanTimeout") })
        await server.stop()
    }

    /// Moat names the macros it reads when it negotiates (SMFIF_SETSYMLIST); Postfix then sends
    /// only those, and they still arrive: the queue id Postfix logged for the message, and the
    /// address and port the client reached.
    @Test func theMacrosMoatAsksForArriveFromPostfix() async throws {
        final class Seen: @unchecked Sendable {
            let lock = NSLock()
            var envelopes: [Envelope] = []
        }
        let seen = Seen()
        var options = MilterInterface.Options()
        options.decide = { core, envelope, message, profile in
            seen.lock.withLock { seen.envelopes.append(envelope) }
            return await core.decide(envelope: envelope, message: message, profile: profile)
        }
        let server = try await LiveServer(options: options)
        let postfix = try await PrivatePostfix.start(milterPort: server.port)
        defer { postfix.stop() }
        let sent = try await postfix.send(Self.clean)
        #expect(sent.status == 0, "\(sent.output)")
        #expect(await postfix.delivered().count == 1)
        let envelope = seen.lock.withLock { seen.envelopes.first }
        let queueId = try #require(envelope?.queueId, "\(postfix.log)")
        #expect(await postfix.waitForLog(containing: ": \(queueId): client="), "queue id \(queueId) not in\n\(postfix.log)")
        #expect(envelope?.serverAddress == "127.0.0.1")
        #expect(envelope?.serverPort == postfix.port)
        await server.stop()
    }

    /// A long scan: PROGRESS packets keep Postfix waiting past its milter_content_timeout.
    @Test func progressKeepsPostfixWaiting() async throws {
        var options = MilterInterface.Options()
        options.progressInterval = .milliseconds(500)
        options.decide = { core, envelope, message, profile in
            try? await Task.sleep(for: .seconds(4))
            return await core.decide(envelope: envelope, message: message, profile: profile)
        }
        let server = try await LiveServer(options: options)
        let postfix = try await PrivatePostfix.start(milterPort: server.port, extra: ["milter_content_timeout": "2s"])
        defer { postfix.stop() }
        let result = try await postfix.send(Self.clean)
        #expect(result.status == 0, "\(result.output)\n\(postfix.log)")
        #expect(await postfix.delivered().count == 1)
        await server.stop()
    }

    /// REPACK end to end: the core repacks (report, archive of the threat), the milter turns
    /// that into header and body edits, and Postfix delivers the repacked message.
    @Test func repackedMailArrivesRepacked() async throws {
        let rules = [#"threat_category in (KnownVirus) : ADD_HEADER("X-Moat-Repacked", "yes"), REPACK"#]
        let server = try await LiveServer(profile: S.profile(rules: rules))
        let postfix = try await PrivatePostfix.start(milterPort: server.port)
        defer { postfix.stop() }
        let result = try await postfix.send(Self.eicar("repack"))
        #expect(result.status == 0, "\(result.output)")
        let message = try #require(await postfix.delivered().first, "\(postfix.log)")
        #expect(!message.contains("EICAR-STANDARD-ANTIVIRUS-TEST-FILE"), "the threat is not in the clear")
        #expect(message.contains("boundary=\"=_moat_"), "the new top-level multipart")
        #expect(message.contains("X-Moat-Archive-Id: moat-"))
        #expect(message.contains("filename=\"quarantine.zip\""))
        #expect(message.contains("X-Moat-Repacked: yes"))
        #expect(message.contains("Message-ID: <repack@example.com>"))
        await server.stop()
    }

    /// The spam score through the Milter: an ADD_HEADER rule on `total_spam_score` marks GTUBE
    /// (the always-on test symbol) and leaves clean mail alone; both are delivered.
    @Test func spamScoreRuleAddsItsHeaderThroughPostfix() async throws {
        let rules = [#"total_spam_score gt 0.80 : ADD_HEADER("X-Spam-Flag", "YES")"#]
        let server = try await LiveServer(profile: S.profile(rules: rules))
        let postfix = try await PrivatePostfix.start(milterPort: server.port)
        defer { postfix.stop() }
        let gtube = Self.clean.replacingOccurrences(of: "Shall we meet at noon?", with: "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X")
            .replacingOccurrences(of: "<clean-postfix@", with: "<gtube-postfix@")
        #expect(try await postfix.send(gtube).status == 0)
        #expect(try await postfix.send(Self.clean).status == 0)
        let delivered = await postfix.delivered(count: 2)
        #expect(delivered.count == 2, "\(postfix.log)")
        let spam = delivered.first { $0.contains("<gtube-postfix@") }
        let clean = delivered.first { $0.contains("<clean-postfix@") }
        #expect(spam?.contains("X-Spam-Flag: YES") == true, "\(spam ?? postfix.log)")
        #expect(clean?.contains("X-Spam-Flag") == false, "\(clean ?? postfix.log)")
        await server.stop()
    }

    /// REPACK with the core alone: the threat never passes as it was (repacked, or refused
    /// while the core has no repacked message).
    @Test func repackNeverPassesTheThreat() async throws {
        let server = try await LiveServer(profile: S.profile(rules: [#"threat_category in (KnownVirus) : REPACK"#]))
        let postfix = try await PrivatePostfix.start(milterPort: server.port)
        defer { postfix.stop() }
        let result = try await postfix.send(Self.eicar("repack-core"))
        if result.status == 0 {
            let message = try #require(await postfix.delivered().first)
            #expect(!message.contains("EICAR-STANDARD"))
        } else {
            #expect(result.output.contains("550 5.7.1"), "\(result.output)")
        }
        await server.stop()
    }
}

/// swaks and the Maildir writer may differ in the blank lines at the very end.
func trimmed(_ s: String) -> String {
    var t = Substring(s)
    while t.last == "\n" { t = t.dropLast() }
    return String(t)
}
