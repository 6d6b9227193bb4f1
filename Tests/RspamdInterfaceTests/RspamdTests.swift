import FilterTestSupport
import Foundation
import InterfaceSupport
import Logging
@testable import MailD
import MoatConfig
import NIOCore
import NIOTestUtils
import Testing
@testable import RspamdInterface

struct RspamdServer {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    static func start(limits: RspamdLimits = RspamdLimits(), extraConfig: String = "",
                      spoolDirectory: String = Support.temporaryPath("rspamd-spool"),
                      coreSpool: String = Support.temporaryPath("spool"),
                      maxConnections: Int = InterfaceListener.defaultMaxConnections, core: MailCore? = nil) async throws -> RspamdServer {
        let service = RspamdService(core: core ?? Support.core(spool: coreSpool), profiles: ProfileCache(store: try Support.settings(extraConfig), name: "Rspamd"),
                                    limits: limits, spoolDirectory: spoolDirectory, logger: Logger(label: "test.rspamd"))
        return RspamdServer(channel: try await RspamdSocket.listener(address: .tcp(host: "127.0.0.1", port: 0), service: service,
                                                                     maxConnections: maxConnections).bind())
    }

    func stop() async { try? await channel.close() }
}

@Suite struct RspamdDecoderTests {
    @Test func httpLengthChunkedAndLegacyOnEverySplit() throws {
        let http = "POST /checkv2 HTTP/1.1\r\nContent-Length: 5\r\nRcpt: a@x\r\nrcpt: b@x\r\n\r\nhello"
        let chunked = "POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n"
        let legacy = "CHECK RSPAMC/1.3\r\nContent-length: 5\r\nQueue-Id: 1abc\r\nFrom: <a@x>\r\n\r\nhello"
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (ByteBuffer(string: http), [.head(RspamdRequestHead(kind: .http(method: "POST", path: "/checkv2", version: "HTTP/1.1"),
                                                                    headers: [("Content-Length", "5"), ("Rcpt", "a@x"), ("rcpt", "b@x")], contentLength: 5)),
                                            .body(ByteBuffer(string: "hell")), .body(ByteBuffer(string: "o")), .end]),
                (ByteBuffer(string: chunked), [.head(RspamdRequestHead(kind: .http(method: "POST", path: "/checkv2", version: "HTTP/1.1"),
                                                                       headers: [("Transfer-Encoding", "chunked")], chunked: true)),
                                               .body(ByteBuffer(string: "hel")), .body(ByteBuffer(string: "lo")), .end]),
                (ByteBuffer(string: legacy), [.head(RspamdRequestHead(kind: .legacy(command: "CHECK", version: "RSPAMC/1.3"),
                                                                      headers: [("Content-length", "5"), ("Queue-Id", "1abc"), ("From", "<a@x>")],
                                                                      contentLength: 5)),
                                              .body(ByteBuffer(string: "hell")), .body(ByteBuffer(string: "o")), .end]),
            ],
            decoderFactory: { RspamdRequestDecoder(pieceSize: 4) })
    }

    @Test func badInput() {
        var limits = RspamdLimits()
        limits.maxMessageSize = 100
        let cases: [(String, Int)] = [
            ("CHECK RSPAMC/1.3\r\n\r\n", 411),
            ("POST /checkv2 HTTP/1.1\r\nContent-Length: 1000\r\n\r\n", 413),
            ("POST /checkv2 HTTP/1.1\r\nCompression: zstd\r\n\r\n", 415),
            ("POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
            ("hello there you\r\n\r\n", 400),
            ("POST /checkv2 HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 400),
        ]
        for (input, status) in cases {
            var decoder = RspamdRequestDecoder(limits: limits)
            var buffer = ByteBuffer(string: input)
            var last: RspamdRequestPart?
            while let part = decoder.step(&buffer, atEOF: true) { last = part }
            #expect(last == .error(RspamdError(status, (last.flatMap { if case .error(let e) = $0 { e.text } else { nil } }) ?? "")),
                    "\(input.prefix(40)) -> \(String(describing: last))")
        }
    }

    @Test func fuzzDecoder() {
        let seed = Array("POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n0\r\n\r\n".utf8)
        for _ in 0..<3000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...5) { bytes[Int.random(in: 0..<bytes.count)] = UInt8.random(in: 0...255) }
            if Bool.random() { bytes = (0..<Int.random(in: 0...150)).map { _ in UInt8.random(in: 0...255) } }
            var decoder = RspamdRequestDecoder()
            var buffer = ByteBuffer(bytes: bytes)
            var count = 0
            while decoder.step(&buffer, atEOF: true) != nil { count += 1; if count > 200 { Issue.record("runaway"); break } }
        }
    }
}

@Suite struct RspamdSessionTests {
    @Test func keepAliveServesTwoRequests() {
        var session = RspamdSession()
        let ping = RspamdRequestHead(kind: .http(method: "GET", path: "/ping", version: "HTTP/1.1"))
        #expect(session.received(.head(ping)) == .none)
        guard case .reply(_, let close) = session.received(.end) else { Issue.record("no pong"); return }
        #expect(!close)
        let check = RspamdRequestHead(kind: .http(method: "POST", path: "/checkv2", version: "HTTP/1.0"), contentLength: 1)
        #expect(session.received(.head(check)) == .none)
        #expect(session.received(.body(ByteBuffer(string: "x"))) == .collect(ByteBuffer(string: "x")))
        #expect(session.received(.end) == .check(check))
        #expect(session.checked([1]) == .reply([1], close: true))
    }

    @Test func legacyOnlyCheckAndSymbols() {
        var session = RspamdSession()
        _ = session.received(.head(RspamdRequestHead(kind: .legacy(command: "LEARN", version: "RSPAMC/1.3"))))
        guard case .reply(let bytes, true) = session.received(.end) else { Issue.record("no error"); return }
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("RSPAMD/1.3 76 "))
    }
}

@Suite(.serialized) struct RspamdSocketTests {
    @Test func legacyReplyIsWhatEximParses() async throws {
        let server = try await RspamdServer.start()
        let message = Support.eicarMail
        let request = "CHECK RSPAMC/1.3\r\nContent-length: \(message.utf8.count)\r\nQueue-Id: 1abc\r\nFrom: <alice@example.com>\r\nRecipient-Number: 1\r\nRcpt: <bob@example.org>\r\n\r\n" + message
        let reply = String(decoding: try await Support.exchange(port: server.port, Array(request.utf8), halfClose: false), as: UTF8.self)
        #expect(reply.hasPrefix("RSPAMD/1.3 0 EX_OK\r\nMetric: default; True; 100.00 / 10.00 / 0.0\r\nAction: reject\r\n"), "\(reply)")
        #expect(reply.contains("Message: The message contains a THREAT\r\n"))
        await server.stop()
    }

    @Test func httpKeepAliveAndJSON() async throws {
        let server = try await RspamdServer.start()
        let message = Support.spam
        let request = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\nPOST /checkv2 HTTP/1.1\r\nContent-Length: \(message.utf8.count)\r\nConnection: close\r\n\r\n" + message
        let reply = String(decoding: try await Support.exchange(port: server.port, Array(request.utf8), halfClose: false), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(reply.contains("pong\r\nHTTP/1.1 200 OK\r\n"), "\(reply)")
        let json = String(reply[reply.range(of: "\r\n\r\n{")!.upperBound...])
        let object = try JSONSerialization.jsonObject(with: Data(("{" + json).utf8)) as? [String: Any]
        #expect(object?["action"] as? String == "reject")
        #expect((object?["messages"] as? [String: Any])?["smtp_message"] as? String == "This is a SPAM message")
        #expect(object?["required_score"] as? Double == 10.0, "RspamdRejectThreshold")
        await server.stop()
    }

    @Test func slowClientGets408() async throws {
        var limits = RspamdLimits()
        limits.readTimeout = .milliseconds(300)
        let server = try await RspamdServer.start(limits: limits)
        let reply = try await Support.exchange(port: server.port, Array("POST /checkv2 HTTP/1.1\r\nContent-Length: 10\r\n\r\nab".utf8), halfClose: false)
        #expect(String(decoding: reply, as: UTF8.self).hasPrefix("HTTP/1.1 408 "))
        await server.stop()
    }

    // MARK: rspamc (Debian rspamd 3.4)

    @Test func rspamcSymbols() async throws {
        let server = try await RspamdServer.start()
        let rspamc = try Support.tool("/usr/bin/rspamc", package: "rspamd")
        let threat = try await Support.run(rspamc, ["-h", "127.0.0.1:\(server.port)", "-F", "alice@example.com", "-r", "bob@example.org",
                                                    "-i", "192.0.2.1", "symbols"], stdin: Support.eicarMail)
        #expect(threat.stdout.contains("Action: reject"), "\(threat)")
        #expect(threat.stdout.contains("Spam: true"))
        #expect(threat.stdout.contains("Score: 100.00 / 10.00"))
        #expect(threat.stdout.contains("MOAT_THREAT"))
        let clean = try await Support.run(rspamc, ["-h", "127.0.0.1:\(server.port)"], stdin: Support.clean)
        #expect(clean.stdout.contains("Action: no action"), "\(clean)")
        #expect(clean.stdout.contains("Spam: false"))
        #expect(clean.stdout.contains("Score: 0.00 / 10.00"), "\(clean)")
        await server.stop()
    }

    @Test func rspamcGetsTheAntiSpamScoreActionAndSymbols() async throws {
        let server = try await RspamdServer.start(extraConfig: "RspamdAddHeaderThreshold = 0.5\nRspamdRejectThreshold = 50")
        let rspamc = try Support.tool("/usr/bin/rspamc", package: "rspamd")
        let gtube = try await Support.run(rspamc, ["-h", "127.0.0.1:\(server.port)", "symbols"],
                                          stdin: Support.message(subject: "test", body: Support.gtube))
        #expect(gtube.stdout.contains("Action: reject"), "\(gtube)")
        #expect(gtube.stdout.contains("Score: 1000.00 / 50.00"))
        #expect(gtube.stdout.contains("Symbol: GTUBE (1000.00)"))
        // Between the thresholds: "add header".
        let shouting = try await Support.run(rspamc, ["-h", "127.0.0.1:\(server.port)", "symbols"],
                                             stdin: Support.message(subject: "LUNCH AT NOON TODAY FOLKS", body: "See you."))
        #expect(shouting.stdout.contains("Action: add header"), "\(shouting)")
        #expect(shouting.stdout.contains("Symbol: SUBJ_ALL_CAPS (1.00)"))
        await server.stop()
    }

    @Test func rspamcLearnSpamAndHam() async throws {
        let core = Support.core()
        let server = try await RspamdServer.start(core: core)
        let rspamc = try Support.tool("/usr/bin/rspamc", package: "rspamd")
        let spam = Support.message(subject: "cheap watches", body: "Replica watches at a discount, order today.")
        let learned = try await Support.run(rspamc, ["-h", "127.0.0.1:\(server.port)", "learn_spam"], stdin: spam)
        #expect(learned.stdout.contains("success = true"), "\(learned)")
        #expect(core.learnedCounts.spam == 1)
        let again = try await Support.run(rspamc, ["-h", "127.0.0.1:\(server.port)", "learn_spam"], stdin: spam)
        #expect((again.stdout + again.stderr).contains("already learned"), "\(again)")
        let ham = try await Support.run(rspamc, ["-h", "127.0.0.1:\(server.port)", "learn_ham"],
                                        stdin: Support.message(subject: "lunch", body: "Noon at the usual place?"))
        #expect(ham.stdout.contains("success = true"), "\(ham)")
        #expect((core.learnedCounts.spam, core.learnedCounts.ham) == (1, 1))
        await server.stop()
    }
}

/// Exim 4.96 with `spamd_address = ... variant=rspamd` and the seed's ACL.
@Suite(.serialized) struct RspamdEximTests {
    @Test func eximVariantRspamd() async throws {
        let server = try await RspamdServer.start()
        let exim = try await EximPeer.prepare(spamdAddress: "127.0.0.1 \(server.port) variant=rspamd",
                                              extraACL: "  defer   spam = nobody:true\n          condition = ${if eq{$spam_action}{soft reject}}\n          message = $spam_report")
        let clean = try await exim.send(Support.clean)
        #expect(clean.accepted, "\(clean.transcript)")
        #expect(clean.spooledHeaders?.contains("X-Spam-Flag") == false)
        let threat = try await exim.send(Support.eicarMail)
        #expect(!threat.accepted)
        #expect(threat.transcript.contains("550"), "\(threat.transcript)")
        #expect(threat.transcript.contains("The message contains a THREAT"))
        let spam = try await exim.send(Support.spam)
        #expect(spam.spooledHeaders?.contains("X-Spam-Flag: YES") == true, "\(spam.spooledHeaders ?? spam.transcript)")
        let later = try await exim.send(Support.tempfail)
        #expect(later.transcript.contains("<** 451"), "\(later.transcript)")
        await server.stop()
    }
}
