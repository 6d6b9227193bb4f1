import FilterTestSupport
import Foundation
import InterfaceSupport
import Logging
@testable import MailD
import MoatConfig
import NIOCore
import NIOEmbedded
import NIOPosix
import NIOTestUtils
import Testing
@testable import SpamdInterface

/// A spamd interface on a free loopback port, for one test.
struct SpamdServer {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    static func start(limits: SpamdLimits = SpamdLimits(), extraConfig: String = "",
                      spoolDirectory: String = Support.temporaryPath("spamd-spool"),
                      coreSpool: String = Support.temporaryPath("spool"),
                      maxConnections: Int = InterfaceListener.defaultMaxConnections, core: MailCore? = nil) async throws -> SpamdServer {
        let service = SpamdService(core: core ?? Support.core(spool: coreSpool), profiles: ProfileCache(store: try Support.settings(extraConfig), name: "Spamd"),
                                   limits: limits, spoolDirectory: spoolDirectory,
                                   logger: Logger(label: "test.spamd"))
        let listener = SpamdSocket.listener(address: .tcp(host: "127.0.0.1", port: 0), service: service, maxConnections: maxConnections)
        return SpamdServer(channel: try await listener.bind())
    }

    func stop() async { try? await channel.close() }
}

@Suite struct SpamdDecoderTests {
    func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    @Test func eximRequestOnEverySplit() throws {
        let message = "From alice@example.com Mon Jan  1 00:00:00 2024\nX-Envelope-From: <alice@example.com>\nSubject: x\n\nhello\n"
        let request = "REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message
        let head = SpamdRequestHead(method: .report, version: SpamdVersion(1, 2),
                                    headers: [("User", "nobody"), ("Content-length", "\(message.utf8.count)")],
                                    contentLength: message.utf8.count)
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(buffer(request), [.head(head), .body(buffer(message)), .end])],
            decoderFactory: { SpamdRequestDecoder() })
    }

    @Test func bodyPiecesAreCutAtFixedOffsets() throws {
        let body = String(repeating: "a", count: 26)
        let request = "CHECK SPAMC/1.5\r\nContent-length: \(body.utf8.count)\r\n\r\n" + body
        let head = SpamdRequestHead(method: .check, version: SpamdVersion(1, 5), headers: [("Content-length", "\(body.utf8.count)")],
                                    contentLength: body.utf8.count)
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(buffer(request), [.head(head), .body(buffer(String(body.prefix(16)))),
                                                  .body(buffer(String(repeating: "a", count: 10))), .end])],
            decoderFactory: { SpamdRequestDecoder(chunkSize: 16) })
    }

    @Test func withoutLengthTheMessageEndsAtEOF() {
        var decoder = SpamdRequestDecoder()
        var buffer = ByteBuffer(string: "CHECK SPAMC/1.5\r\n\r\nhello")
        var parts: [SpamdRequestPart] = []
        while let part = decoder.step(&buffer, atEOF: false) { parts.append(part) }
        #expect(parts == [.head(SpamdRequestHead(method: .check, version: SpamdVersion(1, 5)))])
        while let part = decoder.step(&buffer, atEOF: true) { parts.append(part) }
        #expect(parts.dropFirst() == [.body(ByteBuffer(string: "hello")), .end])
    }

    @Test func oldPingIsTheRequestLineAlone() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(buffer("PING SPAMC/1.2\r\n"), [.head(SpamdRequestHead(method: .ping, version: SpamdVersion(1, 2)))])],
            decoderFactory: { SpamdRequestDecoder() })
    }

    @Test func badInputGivesProtocolErrors() throws {
        let cases: [(String, SpamdStatus)] = [
            ("FROB SPAMC/1.5\r\n\r\n", .protocolError),
            ("CHECK HTTP/1.1\r\n\r\n", .protocolError),
            ("CHECK SPAMC/1.5\r\nno colon here\r\n\r\n", .protocolError),
            ("CHECK SPAMC/1.5\r\nContent-length: 12x\r\n\r\n", .protocolError),
            ("CHECK SPAMC/1.5\r\nContent-length: 10\r\n\r\nshort", .protocolError),
            ("CHECK SPAMC/1.5\r\nContent-length: 999999999\r\n\r\n", .dataError),
            ("CHECK SPAMC/1.5\r\nCompress: gzip\r\n\r\n", .usage),
            ("CHECK SPAMC/1.5\r\nUser: " + String(repeating: "u", count: 9000) + "\r\n\r\n", .protocolError),
        ]
        var limits = SpamdLimits()
        limits.maxMessageSize = 1000
        for (input, status) in cases {
            var decoder = SpamdRequestDecoder(limits: limits)
            var buffer = ByteBuffer(string: input)
            var parts: [SpamdRequestPart] = []
            while let part = decoder.step(&buffer, atEOF: true) { parts.append(part) }
            guard case .error(let error)? = parts.last else { Issue.record("no error for \(input.prefix(40))"); continue }
            #expect(error.status == status, "\(input.prefix(40))")
        }
    }

    @Test func tooManyHeaders() {
        var input = "CHECK SPAMC/1.5\r\n"
        for i in 0..<300 { input += "X-\(i): y\r\n" }
        var decoder = SpamdRequestDecoder()
        var buffer = ByteBuffer(string: input + "\r\n")
        var last: SpamdRequestPart?
        while let part = decoder.step(&buffer, atEOF: false) { last = part }
        #expect(last == .error(SpamdError(.protocolError, "Bad header line: too many headers")))
    }

    /// A small fuzz pass: random bytes and mutated requests never crash and always end in a
    /// head or an error, with nothing buffered beyond a line or a chunk.
    @Test func fuzzDecoder() {
        var generator = SystemRandomNumberGenerator()
        let seed = Array("REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: 5\r\n\r\nhello".utf8)
        for round in 0..<3000 {
            var input = seed
            if round % 2 == 0 {
                input = (0..<Int.random(in: 0...200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                for _ in 0..<Int.random(in: 1...6, using: &generator) {
                    input[Int.random(in: 0..<input.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            var decoder = SpamdRequestDecoder()
            var buffer = ByteBuffer(bytes: input)
            var count = 0
            while let _ = decoder.step(&buffer, atEOF: true) { count += 1; if count > 100 { Issue.record("runaway"); break } }
        }
    }
}

@Suite struct SpamdSessionTests {
    @Test func requestThenCheckThenReplyAndClose() {
        var session = SpamdSession()
        let head = SpamdRequestHead(method: .check, version: SpamdVersion(1, 5), contentLength: 2)
        #expect(session.received(.head(head)) == .none)
        #expect(session.received(.body(ByteBuffer(string: "hi"))) == .collect(ByteBuffer(string: "hi")))
        #expect(session.received(.end) == .check(head))
        #expect(session.timedOut() == .none, "a running check is bounded by ScanTimeout, not the read timeout")
        #expect(session.checked([1]) == .replyAndClose([1]))
    }

    @Test func errorIsAnsweredThenDrainedToEOF() {
        var session = SpamdSession()
        let error = SpamdError(.protocolError, "Bad header line: (x)")
        #expect(session.received(.error(error)) == .replyAndDrain(Array(error.line.utf8)))
        #expect(session.inputClosed() == .close)
    }

    @Test func slowClientTimesOut() {
        var session = SpamdSession()
        #expect(session.received(.head(SpamdRequestHead(method: .report, version: SpamdVersion(1, 2)))) == .none)
        #expect(session.timedOut() == .replyAndClose(Array("SPAMD/1.0 79 Timeout: (no input for too long)\r\n".utf8)))
    }

    @Test func pingAndSkip() {
        var ping = SpamdSession()
        #expect(ping.received(.head(SpamdRequestHead(method: .ping, version: SpamdVersion(1, 5)))) == .replyAndClose(SpamdReply.pong))
        var skip = SpamdSession()
        #expect(skip.received(.head(SpamdRequestHead(method: .skip, version: SpamdVersion(1, 5)))) == .close)
    }
}

@Suite struct SpamdReplyTests {
    func verdict(spam: Bool) -> SpamdVerdict {
        var v = SpamdVerdict.stub
        v.isSpam = spam
        v.score = spam ? 100 : 0
        return v
    }

    @Test func eximShapeHasNoHeaderBeforeSpam() {
        let head = SpamdRequestHead(method: .report, version: SpamdVersion(1, 2))
        let text = String(decoding: SpamdReply.render(head, verdict(spam: true)) { nil }, as: UTF8.self)
        #expect(text == "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 100.0 / 5.0\r\n\r\nThe message contains a THREAT\n")
    }

    @Test func spamcShapeCarriesContentLength() {
        let head = SpamdRequestHead(method: .symbols, version: SpamdVersion(1, 5))
        let text = String(decoding: SpamdReply.render(head, verdict(spam: false)) { nil }, as: UTF8.self)
        #expect(text == "SPAMD/1.1 0 EX_OK\r\nContent-length: 11\r\nSpam: False ; 0.0 / 5.0\r\n\r\nMOAT_THREAT")
    }

    @Test func processAddsHeadersBeforeTheEmptyLine() {
        let head = SpamdRequestHead(method: .process, version: SpamdVersion(1, 5))
        let message = Array("Subject: x\r\n\r\nbody\r\n".utf8)
        let reply = String(decoding: SpamdReply.render(head, verdict(spam: true)) { message }, as: UTF8.self)
        #expect(reply.hasSuffix("\r\n\r\nSubject: x\r\nX-Spam-Flag: YES\r\n\r\nbody\r\n"))
        let headers = SpamdRequestHead(method: .headers, version: SpamdVersion(1, 5))
        let only = String(decoding: SpamdReply.render(headers, verdict(spam: true)) { message }, as: UTF8.self)
        #expect(only.hasSuffix("\r\n\r\nSubject: x\r\nX-Spam-Flag: YES\r\n\r\n"))
    }

    @Test func tempfailIsAnErrorLine() {
        var v = verdict(spam: false)
        v.error = SpamdError(.tempFail, "EX_TEMPFAIL later")
        let head = SpamdRequestHead(method: .report, version: SpamdVersion(1, 2))
        #expect(SpamdReply.render(head, v) { nil } == Array("SPAMD/1.0 75 EX_TEMPFAIL later\r\n".utf8))
    }
}

extension SpamdVerdict {
    static var stub: SpamdVerdict {
        var v = SpamdVerdict(Decision(report: CheckReport(envelope: Envelope(source: .spamd), profile: "Spamd", size: 0, parts: [],
                                                            messageUnchecked: [], elapsedMilliseconds: 0, engineGeneration: 1),
                                      verdict: .init(), action: .pass, headersToAdd: [], repackedMessage: nil, reason: "clean"))
        v.symbols = ["MOAT_THREAT"]
        v.report = ["The message contains a THREAT"]
        v.headers = [("X-Spam-Flag", "YES")]
        return v
    }
}

/// SpamdSocket against raw bytes and against the real spamc.
@Suite(.serialized) struct SpamdSocketTests {
    @Test func eximShapedRequestOverTCP() async throws {
        let server = try await SpamdServer.start()
        defer { Task { await server.stop() } }
        let message = "From alice@example.com Mon Jan  1 00:00:00 2024\nX-Envelope-From: <alice@example.com>\n" + Support.eicarMail
        let request = "REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message
        let reply = String(decoding: try await Support.exchange(port: server.port, Array(request.utf8)), as: UTF8.self)
        #expect(reply.hasPrefix("SPAMD/1.1 0 EX_OK\r\nSpam: True ; 100.0 / 5.0\r\n\r\nThe message contains a THREAT\n"), "\(reply)")
        #expect(reply.contains("Moat.Test.EICAR"))
        await server.stop()
    }

    @Test func lengthMismatchAndGarbage() async throws {
        let server = try await SpamdServer.start()
        let short = try await Support.exchange(port: server.port, Array("CHECK SPAMC/1.5\r\nContent-length: 100\r\n\r\nonly this".utf8))
        #expect(String(decoding: short, as: UTF8.self).hasPrefix("SPAMD/1.0 76 Bad header line: (Content-Length mismatch"))
        let garbage = try await Support.exchange(port: server.port, Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(String(decoding: garbage, as: UTF8.self) == "SPAMD/1.0 76 Bad header line: (GET / HTTP/1.1)\r\n")
        await server.stop()
    }

    @Test func silentClientTimesOut() async throws {
        var limits = SpamdLimits()
        limits.readTimeout = .milliseconds(300)
        let server = try await SpamdServer.start(limits: limits)
        let started = ContinuousClock.now
        let reply = try await Support.exchange(port: server.port, Array("CHECK SPAMC/1.5\r\nContent-length: 10\r\n".utf8), halfClose: false)
        #expect(String(decoding: reply, as: UTF8.self) == "SPAMD/1.0 79 Timeout: (no input for too long)\r\n")
        #expect(ContinuousClock.now - started < .seconds(5))
        await server.stop()
    }

    @Test func oversizedMessageIsRefusedWithBoundedMemory() async throws {
        var limits = SpamdLimits()
        limits.maxMessageSize = 100_000
        let server = try await SpamdServer.start(limits: limits)
        let body = String(repeating: "x", count: 300_000)
        let reply = try await Support.exchange(port: server.port, Array(("CHECK SPAMC/1.5\r\n\r\n" + body).utf8))
        #expect(String(decoding: reply, as: UTF8.self).hasPrefix("SPAMD/1.0 65 Message too big"))
        await server.stop()
    }

    @Test func largeMessageIsSpooledAndStillChecked() async throws {
        // SpoolThreshold's minimum is 64 KB: a 2 MB message goes through a spool file.
        let server = try await SpamdServer.start(extraConfig: "SpoolThreshold = 64kb")
        let filler = String(repeating: "lorem ipsum dolor sit amet\r\n", count: 80_000)
        let message = Support.message(subject: "big", body: "buy now\r\n" + filler)
        let request = "CHECK SPAMC/1.5\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message
        let reply = String(decoding: try await Support.exchange(port: server.port, Array(request.utf8)), as: UTF8.self)
        #expect(reply == "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 100.0 / 5.0\r\n\r\n")
        await server.stop()
    }

    // MARK: spamc (Debian spamc 4.0)

    func spamc(_ server: SpamdServer, _ arguments: [String], _ message: String) async throws -> Support.Output {
        let spamc = try Support.tool("/usr/bin/spamc", package: "spamc")
        return try await Support.run(spamc, ["-d", "127.0.0.1", "-p", "\(server.port)", "-t", "30"] + arguments, stdin: message)
    }

    @Test func spamcCheckReportSymbolsProcessHeadersPing() async throws {
        let server = try await SpamdServer.start()
        let clean = try await spamc(server, ["-c"], Support.clean)
        #expect(clean.stdout == "0.0/5.0\n")
        #expect(clean.status == 0)
        let eicar = try await spamc(server, ["-c"], Support.eicarMail)
        #expect(eicar.stdout == "100.0/5.0\n")
        #expect(eicar.status == 1, "spamc -c exits 1 for spam")

        let report = try await spamc(server, ["-R"], Support.spam)
        #expect(report.stdout.hasPrefix("100.0/5.0\nThis is a SPAM message\n"), "\(report.stdout)")
        let symbols = try await spamc(server, ["-y"], Support.eicarMail)
        #expect(symbols.stdout == "ATTACH_EXECUTABLE,MOAT_THREAT,MOAT_RULE_1", "the anti-spam symbols, then Moat's own")

        let processed = try await spamc(server, [], Support.eicarMail)
        #expect(processed.stdout.contains("X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=100.0 required=5.0"))
        #expect(processed.stdout.contains("Content-Disposition: attachment; filename=\"eicar.com\""))
        let headers = try await spamc(server, ["--headers"], Support.spam)
        #expect(headers.stdout.contains("X-Spam-Flag: YES"))
        #expect(headers.stdout.contains("Please buy our pills today."), "spamc re-attaches the body")

        let ping = try await spamc(server, ["-K"], "")
        #expect(ping.stdout == "SPAMD/1.5 0\n", "\(ping)")
        await server.stop()
    }

    @Test func spamcGetsTheAntiSpamScoreSymbolsAndReport() async throws {
        // A threshold of its own: the score is compared with SpamdSpamThreshold.
        let server = try await SpamdServer.start(extraConfig: "SpamdSpamThreshold = 7.5")
        let gtube = Support.message(subject: "test", body: Support.gtube)
        let check = try await spamc(server, ["-c"], gtube)
        #expect(check.stdout == "1000.0/7.5\n")
        #expect(check.status == 1)
        let symbols = try await spamc(server, ["-y"], gtube)
        #expect(symbols.stdout == "GTUBE")
        let report = try await spamc(server, ["-R"], gtube)
        #expect(report.stdout.hasPrefix("1000.0/7.5\nMoat: spam score 1000.0 reached the threshold 7.5\n"), "\(report.stdout)")
        #expect(report.stdout.contains("Content analysis details:   (1000.0 points, 7.5 required)"))
        #expect(report.stdout.contains("\n1000.0 GTUBE                  Generic Test for Unsolicited Bulk Email"), "\(report.stdout)")
        // Below the threshold: a score, not spam.
        let shouting = try await spamc(server, ["-c"], Support.message(subject: "LUNCH AT NOON TODAY FOLKS", body: "See you."))
        #expect(shouting.stdout == "1.0/7.5\n")
        #expect(shouting.status == 0)
        await server.stop()
    }

    @Test func spamcLearnsAndForgets() async throws {
        let core = Support.core()
        let server = try await SpamdServer.start(core: core)
        let message = Support.message(subject: "cheap watches", body: "Replica watches at a discount, order today.")
        let learned = try await spamc(server, ["-L", "spam"], message)
        #expect(learned.stdout == "Message successfully un/learned\n", "\(learned)")
        #expect(core.learnedCounts.spam == 1)
        let again = try await spamc(server, ["-L", "spam"], message)
        #expect(again.stdout == "Message was already un/learned\n", "\(again)")
        let moved = try await spamc(server, ["-L", "ham"], message)
        #expect(moved.stdout == "Message successfully un/learned\n")
        #expect((core.learnedCounts.spam, core.learnedCounts.ham) == (0, 1))
        let forgotten = try await spamc(server, ["-L", "forget"], message)
        #expect(forgotten.stdout == "Message successfully un/learned\n", "\(forgotten)")
        #expect((core.learnedCounts.spam, core.learnedCounts.ham) == (0, 0))
        await server.stop()
    }

    @Test func spamcSeesTempfailAsAnError() async throws {
        let server = try await SpamdServer.start()
        let strict = try await spamc(server, ["-x", "-c"], Support.tempfail)
        #expect(strict.status == 74 || strict.status == 75, "\(strict)")
        let message = Support.tempfail
        let lenient = try await spamc(server, [], message)
        #expect(lenient.status == 0)
        #expect(lenient.stdout == message, "spamc passes the message unscanned")
        await server.stop()
    }
}

/// Exim 4.96 (Debian exim4-daemon-heavy) with the seed's ACL against SpamdSocket.
@Suite(.serialized) struct SpamdEximTests {
    @Test func eximAcceptsCleanDeniesThreatAndMarksSpam() async throws {
        let server = try await SpamdServer.start()
        let exim = try await EximPeer.prepare(spamdAddress: "127.0.0.1 \(server.port)")

        let clean = try await exim.send(Support.clean)
        #expect(clean.accepted, "\(clean.transcript)")
        #expect(clean.spooledHeaders?.contains("X-Spam-Flag") == false)

        let threat = try await exim.send(Support.eicarMail)
        #expect(!threat.accepted)
        #expect(threat.transcript.contains("550-The message contains a THREAT"), "\(threat.transcript)")

        let spam = try await exim.send(Support.spam)
        #expect(spam.accepted, "\(spam.transcript)")
        #expect(spam.spooledHeaders?.contains("X-Spam-Flag: YES") == true, "\(spam.spooledHeaders ?? spam.transcript)")
        #expect(spam.spooledHeaders?.contains("X-Spam-Report: This is a SPAM message") == true)

        let later = try await exim.send(Support.tempfail)
        #expect(!later.accepted)
        #expect(later.transcript.contains("<** 451"), "TEMPFAIL makes Exim defer: \(later.transcript)")
        await server.stop()
    }

    /// The seed's ACL with `X-Spam_score: $spam_score` and the seed's spam rule: Exim's
    /// `$spam_score` is Moat's score (GTUBE far over the threshold, a clean message under it),
    /// and `total_spam_score gt 0.80` makes GTUBE "This is a SPAM message".
    @Test func eximCarriesMoatsScoreAndTheSeedSpamRuleFires() async throws {
        let server = try await SpamdServer.start(extraConfig: "[MailD]\nSpamdRuleSet = total_spam_score gt 0.80 : REJECT \"This is a SPAM message\"")
        let exim = try await EximPeer.prepare(spamdAddress: "127.0.0.1 \(server.port)",
                                              extraACL: "  warn    spam      = nobody:true\n          add_header = X-Spam_score: $spam_score")
        func score(_ headers: String?) -> Double? {
            // Exim's spool header file: each field after its length and flag ("034  X-Spam_score: 1000.0").
            guard let headers, let range = headers.range(of: "X-Spam_score:") else { return nil }
            let rest = headers[range.upperBound...].prefix { $0 != "\n" }
            return Double(rest.trimmingCharacters(in: .whitespaces))
        }
        let spam = try await exim.send(Support.message(subject: "test", body: Support.gtube))
        #expect(spam.accepted, "\(spam.transcript)")
        #expect(spam.spooledHeaders?.contains("X-Spam-Report: This is a SPAM message") == true, "\(spam.spooledHeaders ?? spam.transcript)")
        #expect((score(spam.spooledHeaders) ?? 0) >= 5, "\(spam.spooledHeaders ?? spam.transcript)")
        let clean = try await exim.send(Support.clean)
        #expect(clean.accepted, "\(clean.transcript)")
        #expect((score(clean.spooledHeaders) ?? 99) < 5, "\(clean.spooledHeaders ?? clean.transcript)")
        #expect(clean.spooledHeaders?.contains("X-Spam-Flag") == false)
        await server.stop()
    }
}
