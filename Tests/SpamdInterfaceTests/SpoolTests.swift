import FilterTestSupport
import Foundation
import InterfaceSupport
import MailD
import NIOCore
import NIOPosix
import Testing
@testable import SpamdInterface

/// The shared `MessageCollector` (InterfaceSupport) and spooled PROCESS replies.
@Suite struct MessageCollectorTests {
    let eventLoop = MultiThreadedEventLoopGroup.singleton.next()

    /// Runs `body` on the collector's event loop.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> EventLoopFuture<T>) async throws -> T {
        try await eventLoop.flatSubmit(body).get()
    }

    @Test func smallMessageStaysInMemory() async throws {
        let directory = Support.temporaryPath("collector")
        let eventLoop = eventLoop
        let source = try await onLoop {
            let collector = MessageCollector(threshold: 100, directory: directory, eventLoop: eventLoop)
            #expect(collector.append(ByteBuffer(string: "hello ")) == nil)
            var read = ByteBuffer(string: "..world")
            read.moveReaderIndex(forwardBy: 2)
            #expect(collector.append(read) == nil, "only the readable bytes")
            #expect(!collector.isSpooled)
            #expect(collector.prefix == Array("hello world".utf8))
            return collector.finish()
        }
        guard case .bytes(let bytes)? = source else { Issue.record("\(String(describing: source))"); return }
        #expect(bytes == Array("hello world".utf8))
        #expect(!FileManager.default.fileExists(atPath: directory), "no spool directory for a small message")
    }

    @Test func largeMessageIsWrittenOffTheLoopInOrderWithBackpressure() async throws {
        let directory = Support.temporaryPath("collector")
        let eventLoop = eventLoop
        let pieces = (0..<400).map { i in ByteBuffer(bytes: Array(repeating: UInt8(i % 251), count: 16_384)) }
        let expected = pieces.flatMap { Array($0.readableBytesView) }
        let (source, paused, prefix) = try await onLoop { () -> EventLoopFuture<(MessageSource?, Bool, [UInt8])> in
            let collector = MessageCollector(threshold: 65_536, directory: directory, eventLoop: eventLoop)
            collector.highWater = 256 << 10
            collector.lowWater = 64 << 10
            var paused = false
            for piece in pieces {
                if collector.append(piece) != nil { paused = true }
            }
            #expect(collector.isSpooled)
            #expect(collector.count == expected.count)
            let prefix = collector.prefix
            return collector.finish().map { ($0, paused, prefix) }
        }
        #expect(paused, "6.5 MB appended at once is more than highWater behind")
        #expect(prefix == Array(expected.prefix(MessageCollector.prefixSize)))
        guard case .file(let path)? = source else { Issue.record("\(String(describing: source))"); return }
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written == expected, "every piece, in order")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        MessageCollector.remove(source)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func drainedFutureCompletes() async throws {
        let directory = Support.temporaryPath("collector")
        let eventLoop = eventLoop
        let drained = try await onLoop { () -> EventLoopFuture<Bool> in
            let collector = MessageCollector(threshold: 10, directory: directory, eventLoop: eventLoop)
            collector.highWater = 1000
            collector.lowWater = 0
            var waiting: EventLoopFuture<Void>?
            for _ in 0..<100 where waiting == nil {
                waiting = collector.append(ByteBuffer(bytes: Array(repeating: 65, count: 600)))
            }
            guard let waiting else { return eventLoop.makeSucceededFuture(false) }
            return waiting.flatMap { collector.finish() }.map { source in
                MessageCollector.remove(source)
                return true
            }
        }
        #expect(drained)
    }

    @Test func discardRemovesTheSpoolFile() async throws {
        let directory = Support.temporaryPath("collector")
        let eventLoop = eventLoop
        try await onLoop { () -> EventLoopFuture<Void> in
            let collector = MessageCollector(threshold: 10, directory: directory, eventLoop: eventLoop)
            collector.append(ByteBuffer(bytes: Array(repeating: 65, count: 5000)))
            collector.discard()
            return eventLoop.makeSucceededVoidFuture()
        }
        var left: [String] = ["?"]
        for _ in 0..<100 {
            left = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? ["?"]
            if left.isEmpty { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(left.isEmpty, "\(left)")
    }

    /// No source, and the reason for the log line of the local failure.
    @Test func unwritableSpoolDirectoryGivesNoSource() async throws {
        let eventLoop = eventLoop
        let (source, failure) = try await onLoop { () -> EventLoopFuture<(MessageSource?, String?)> in
            let collector = MessageCollector(threshold: 10, directory: "/proc/moat-cannot-write-here", eventLoop: eventLoop)
            collector.append(ByteBuffer(bytes: Array(repeating: 65, count: 5000)))
            collector.append(ByteBuffer(bytes: Array(repeating: 66, count: 5000)))
            return collector.finish().assumeIsolated().map { ($0, collector.failure) }.nonisolated()
        }
        #expect(source == nil)
        #expect(failure?.hasPrefix("cannot create /proc/moat-cannot-write-here/msg-") == true, "\(String(describing: failure))")
    }

    /// The spool file's name is the interface's prefix and a UUID (what the start-up cleanup removes).
    @Test func spoolFileNameHasThePrefix() async throws {
        let directory = Support.temporaryPath("collector")
        let eventLoop = eventLoop
        let source = try await onLoop {
            let collector = MessageCollector(threshold: 10, directory: directory, namePrefix: "milter-", eventLoop: eventLoop)
            collector.append(ByteBuffer(bytes: Array(repeating: 65, count: 5000)))
            return collector.finish()
        }
        guard case .file(let path)? = source else { Issue.record("\(String(describing: source))"); return }
        let name = URL(fileURLWithPath: path).lastPathComponent
        #expect(name.hasPrefix("milter-") && UUID(uuidString: String(name.dropFirst(7))) != nil, "\(name)")
        MessageCollector.remove(source)
    }
}

@Suite(.serialized) struct SpooledProcessTests {
    /// A message well over SpoolThreshold, with a recognisable body.
    static func bigMessage(subject: String, first: String) -> String {
        let filler = (0..<60_000).map { "line \($0) lorem ipsum dolor sit amet\r\n" }.joined()
        return Support.message(subject: subject, body: first + "\r\n" + filler)
    }

    func request(_ method: String, _ message: String) -> [UInt8] {
        Array("\(method) SPAMC/1.5\r\nContent-length: \(message.utf8.count)\r\n\r\n\(message)".utf8)
    }

    @Test func processStreamsTheSpooledMessageBackWithTheHeadersAdded() async throws {
        let spool = Support.temporaryPath("spamd-spool")
        let server = try await SpamdServer.start(extraConfig: "SpoolThreshold = 64kb", spoolDirectory: spool)
        let message = Self.bigMessage(subject: "big", first: "buy now")
        #expect(message.utf8.count > 2_000_000)
        let reply = try await Support.exchange(port: server.port, request("PROCESS", message))
        let text = String(decoding: reply, as: UTF8.self)
        let split = text.components(separatedBy: "\r\n\r\n")
        #expect(split[0] == "SPAMD/1.1 0 EX_OK\r\nContent-length: \(reply.count - split[0].utf8.count - 4)\r\nSpam: True ; 100.0 / 5.0",
                "Content-length counts what follows")
        let body = Array(reply[(split[0].utf8.count + 4)...])
        #expect(body.count > message.utf8.count)
        let returned = String(decoding: body, as: UTF8.self)
        #expect(returned.contains("X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=100.0 required=5.0"))
        #expect(returned.hasSuffix("line 59999 lorem ipsum dolor sit amet\r\n\r\n"), "the whole body, to its end")
        let originalBody = message.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(returned.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") == originalBody)

        let headers = try await Support.exchange(port: server.port, request("HEADERS", message))
        let headersText = String(decoding: headers, as: UTF8.self)
        #expect(headersText.contains("X-Spam-Flag: YES"))
        #expect(!headersText.contains("line 1 lorem"), "HEADERS returns the header block only")

        // Nothing is left in the spool directory.
        var left: [String] = ["?"]
        for _ in 0..<100 {
            left = (try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []
            if left.isEmpty { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(left.isEmpty, "\(left)")
        await server.stop()
    }

    @Test func spamcProcessOfASpooledMessage() async throws {
        let server = try await SpamdServer.start(extraConfig: "SpoolThreshold = 64kb")
        let spamc = try Support.tool("/usr/bin/spamc", package: "spamc")
        let message = Self.bigMessage(subject: "big clean", first: "hello")
        let output = try await Support.run(spamc, ["-d", "127.0.0.1", "-p", "\(server.port)", "-t", "30", "-s", "20000000"],
                                           stdin: message)
        #expect(output.status == 0)
        #expect(output.stdout.contains("X-Spam-Status: No, score=0.0 required=5.0"), "\(output.stdout.prefix(600))")
        let returnedBody = output.stdout.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        let originalBody = message.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(returnedBody == originalBody)
        await server.stop()
    }

    @Test func renderSpooledMatchesRenderInMemory() throws {
        let path = Support.temporaryPath("spooled-render")
        for message in [Support.spam, "Subject: x\nFrom: a@b\n\nbody\nmore\n", "Subject: only headers\r\n"] {
            try message.write(toFile: path, atomically: true, encoding: .utf8)
            defer { unlink(path) }
            for method in [SpamdMethod.process, .headers] {
                for version in [SpamdVersion(1, 1), SpamdVersion(1, 2), SpamdVersion(1, 5)] {
                    let head = SpamdRequestHead(method: method, version: version, headers: [], contentLength: message.utf8.count)
                    var v = SpamdVerdict.stub
                    v.isSpam = true
                    v.score = 100
                    v.headers = [("X-Spam-Flag", "YES")]
                    let memory = SpamdReply.render(head, v) { Array(message.utf8) }
                    let spooled = SpamdReply.render(head, v, spooled: path, headerLimit: 20)
                    var streamed = spooled.bytes
                    if let file = spooled.file {
                        streamed += SpamdReply.readPrefix(file.fd, count: Int(file.offset) + file.count)!.dropFirst(Int(file.offset))
                        close(file.fd)
                    }
                    #expect(streamed == memory, "\(method) \(version): \(message)")
                }
            }
        }
    }
}
