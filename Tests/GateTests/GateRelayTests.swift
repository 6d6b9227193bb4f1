import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import SystemSetupSupport
import Testing
import ThreatEngine
@testable import Gate

/// A small SMTP server for in-process tests: records what it received, byte for byte.
final class FakeSMTPServer: Sendable {
    let received = Mutex<[String]>([])
    let commands = Mutex<[String]>([])
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    /// Set when a client completed STARTTLS.
    let tlsSessions = Mutex(0)

    /// `tls`: offer STARTTLS with this context.
    init(ehlo: [String] = ["fake.example.org", "PIPELINING", "CHUNKING", "SIZE 10240000", "8BITMIME"],
         tls: NIOSSLContext? = nil, greeting: String = "220 fake.example.org ESMTP\r\n",
         afterStartTLS: String = "") async throws {
        let box = Box()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MailLineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(Handler(server: box, ehlo: ehlo, tls: tls, greeting: greeting,
                                                                            afterStartTLS: afterStartTLS))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.server.withLock { $0 = self }
    }

    final class Box: Sendable { let server = Mutex<FakeSMTPServer?>(nil) }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = MailLine
        let box: Box
        let ehlo: [String]
        let tls: NIOSSLContext?
        let greeting: String
        /// Written in the same segment as the 220 to STARTTLS (a man in the middle's injection).
        let afterStartTLS: String
        var encrypted = false
        var data: String?
        var count = 0

        init(server: Box, ehlo: [String], tls: NIOSSLContext?, greeting: String, afterStartTLS: String) {
            self.box = server; self.ehlo = ehlo; self.tls = tls; self.greeting = greeting; self.afterStartTLS = afterStartTLS
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(ByteBuffer(string: greeting)), promise: nil)
        }

        func reply(_ context: ChannelHandlerContext, _ text: String) {
            context.writeAndFlush(NIOAny(ByteBuffer(string: text)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data input: NIOAny) {
            let line = unwrapInboundIn(input)
            let server = box.server.withLock { $0 }!
            if var message = data {
                if String(buffer: line.bytes) == ".\r\n" {
                    count += 1
                    server.received.withLock { $0.append(message) }
                    data = nil
                    reply(context, "250 2.0.0 Ok: queued as FAKE\(count)\r\n")
                } else {
                    message += String(buffer: line.bytes)
                    data = message
                }
                return
            }
            let text = line.text
            server.commands.withLock { $0.append(text) }
            switch text.prefix(4).uppercased() {
            case "EHLO":
                let ehlo = self.ehlo + (tls != nil && !encrypted ? ["STARTTLS"] : [])
                reply(context, ehlo.enumerated().map { "250" + ($0.offset == ehlo.count - 1 ? " " : "-") + $0.element + "\r\n" }.joined())
            case "STAR" where tls != nil && !encrypted:
                reply(context, "220 2.0.0 Ready to start TLS\r\n" + afterStartTLS)
                // Written before the TLS handler is in place: the 220 goes out in the clear.
                encrypted = true
                try? context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls!), position: .first)
                server.tlsSessions.withLock { $0 += 1 }
            case "DATA":
                data = ""
                reply(context, "354 End data with <CR><LF>.<CR><LF>\r\n")
            case "QUIT":
                context.writeAndFlush(NIOAny(ByteBuffer(string: "221 2.0.0 Bye\r\n"))).whenComplete { _ in context.close(promise: nil) }
            case "RCPT" where text.contains("unknown"):
                reply(context, "550 5.1.1 unknown user\r\n")
            default:
                reply(context, "250 2.0.0 Ok\r\n")
            }
        }
    }

    func stop() { channel.close(promise: nil) }
}

/// A blocking SMTP client (tests only): writes text, reads whole replies.
final class LineClient {
    let fd: Int32
    var pending: [UInt8] = []

    /// `readTimeout`: how long a reply is waited for before it reads as empty.
    init(port: Int, readTimeout: Int = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// One whole reply (all its lines); "" at end of stream.
    func reply() -> String {
        var text = ""
        while true {
            guard let line = readLine() else { return text }
            text += line
            let bytes = Array(line.utf8)
            if bytes.count < 4 || bytes[3] != UInt8(ascii: "-") { return text }
        }
    }

    func readLine() -> String? {
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[...newline], as: UTF8.self)
                pending.removeFirst(newline + 1)
                return line
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return nil }
            pending += buffer[..<n]
        }
    }
}

enum GateFixtures {
    /// The Gates' loops, reserved for mail as moatd reserves its own: small messages are
    /// checked on them (`CheckPlacement`), as in production, apart from other suites' channels.
    static let mailLoops: MultiThreadedEventLoopGroup = {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        CheckPlacement.reserveForMail(group)
        return group
    }()

    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    static let scanner: ThreatScanner = try! ThreatScanner(signatureDirectory: "/nonexistent-moat-test-signatures")

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moat-gate-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func cleanMessage(_ id: String = "1") -> String {
        "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: hello \(id)\r\nMessage-ID: <clean-\(id)@example.com>\r\n\r\nHello Bob,\r\n.a line starting with a dot\r\n..two dots\r\n\r\nAlice\r\n"
    }

    static func eicarMessage() -> String {
        let body = Data(eicar.utf8).base64EncodedString()
        return """
            From: Alice <alice@example.com>\r
            To: Bob <bob@example.org>\r
            Subject: the test file\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain\r
            \r
            See attachment.\r
            --b1\r
            Content-Type: application/octet-stream; name="eicar.com"\r
            Content-Disposition: attachment; filename="eicar.com"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(body)\r
            --b1--\r

            """
    }

    /// A running Gate in front of `upstream`, as if every connection had been diverted there.
    static func gate(upstream: SocketAddress, protocol proto: GateProtocol = .smtp, config: String = "", mailD: String = "",
                     timeouts: GateTimeouts? = nil,
                     spoolReadHook: (@Sendable (String, Int) -> Void)? = nil,
                     checkHook: (@Sendable () async -> Void)? = nil) async throws
        -> (service: GateService, channels: [any Channel], port: Int, varDir: String) {
        let varDir = temporaryDirectory()
        let text = "[Root]\nVarDir = \(varDir)\n[MailD]\nReportLanguages = en\n" + mailD + "\n[LinuxFirewall]\n" + config
        let store = SettingsStore(try ConfigLoader().load(text: text))
        let core = MailCore(scanner: scanner, spoolDirectory: varDir + "/spool")
        var options = GateService.Options()
        options.hosts = ["127.0.0.1"]
        options.port = 0
        options.transparent = false
        options.upstreamOverride = upstream
        options.protocolOverride = proto
        options.timeouts = timeouts
        options.spoolReadHook = spoolReadHook
        options.checkHook = checkHook
        let service = GateService(settings: store, core: core, group: mailLoops, options: options)
        let channels = try await service.bind()
        return (service, channels, channels[0].localAddress!.port!, varDir)
    }
}

@Suite(.serialized) struct GateRelayTests {
    @Test func cleanMailArrivesByteIdenticalAndTheClientGetsTheServersReply() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        // The client blocks: on a thread of its own, so the Gate's check always finds a
        // cooperative thread however many suites run beside it.
        let port = gate.port
        let message = GateFixtures.cleanMessage()
        let replies = try await offPool { () -> [String] in
            let client = try LineClient(port: port)
            var replies = [client.reply()]
            client.send("EHLO client.example.com\r\n")
            replies.append(client.reply())
            // One pipelined batch, as Postfix sends it.
            client.send("MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<unknown@example.org>\r\nDATA\r\n")
            for _ in 0..<4 { replies.append(client.reply()) }
            client.send(String(buffer: DotStuffer.stuffed(Array(message.utf8))))
            replies.append(client.reply())
            client.send("QUIT\r\n")
            replies.append(client.reply())
            replies.append(client.reply())
            return replies
        }
        #expect(replies.count == 9)
        guard replies.count == 9 else { return }
        #expect(replies[0] == "220 fake.example.org ESMTP\r\n")
        #expect(replies[1] == "250-fake.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n")
        #expect(Array(replies[2...4]) == ["250 2.0.0 Ok\r\n", "250 2.0.0 Ok\r\n", "550 5.1.1 unknown user\r\n"])
        #expect(replies[5].hasPrefix("354 "))
        #expect(replies[6] == "250 2.0.0 Ok: queued as FAKE1\r\n")
        #expect(replies[7] == "221 2.0.0 Bye\r\n")
        #expect(replies[8] == "")
        // What reached the server, unstuffed, is the message as the client wrote it.
        let received = server.received.withLock { $0 }
        #expect(received.count == 1)
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client((received.first ?? "") + ".\r\n")
        #expect(t.body == message)
    }

    @Test func eicarIsRefusedAtSMTPAndNeverReachesTheServer() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let client = try LineClient(port: gate.port)
        _ = client.reply()
        client.send("EHLO c\r\n")
        _ = client.reply()
        client.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        _ = client.reply(); _ = client.reply()
        #expect(client.reply().hasPrefix("354"))
        client.send(String(buffer: DotStuffer.stuffed(Array(GateFixtures.eicarMessage().utf8))))
        #expect(client.reply() == "550 5.7.1 The message contains a THREAT\r\n")
        // The session goes on: a clean message after it is delivered.
        client.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        _ = client.reply(); _ = client.reply()
        #expect(client.reply().hasPrefix("354"))
        client.send(String(buffer: DotStuffer.stuffed(Array(GateFixtures.cleanMessage("2").utf8))))
        #expect(client.reply() == "250 2.0.0 Ok: queued as FAKE1\r\n")
        let commands = server.commands.withLock { $0 }
        #expect(commands.filter { $0 == "DATA" }.count == 1)
        #expect(commands.contains("RSET"))
        #expect(server.received.withLock { $0 }.count == 1)
    }

    @Test func ruleTextIsGivenWithItsCode() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, config: """
            RuleSet = threat_category in (KnownVirus) : REJECT "Virus found, message refused"
            RuleSet = protocol in (Smtp) : SCAN_MAIL
            """)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let client = try LineClient(port: gate.port)
        _ = client.reply()
        client.send("HELO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        for _ in 0..<3 { _ = client.reply() }
        #expect(client.reply().hasPrefix("354"))
        client.send(String(buffer: DotStuffer.stuffed(Array(GateFixtures.eicarMessage().utf8))))
        let reply = client.reply()
        #expect(reply.hasPrefix("550 5.7.1 "), "\(reply)")
        #expect(server.received.withLock { $0 }.isEmpty)
    }

    @Test func upstreamDownGivesA421() async throws {
        // A port below the ephemeral range that nobody listens on: a server's port closed
        // again could be taken by another test's socket, which then answered (CI saw 4.4.2).
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: LoopbackPorts.reserve())
        let gate = try await GateFixtures.gate(upstream: address)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let client = try LineClient(port: gate.port)
        #expect(client.reply().hasPrefix("421 4.4.1 "))
        #expect(client.reply() == "")
    }

    @Test func largeMessageIsSpooledAndDeliveredIntact() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        // Above [MailD] SpoolThreshold the message goes to a private file, and is sent from it.
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, mailD: "SpoolThreshold = 64kb")
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        var body = ""
        for i in 0..<40_000 { body += ".line \(i) with some text to make it longer than usual padding padding\r\n" }
        let message = "Subject: big\r\n\r\n" + body
        let client = try LineClient(port: gate.port)
        _ = client.reply()
        client.send("EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        for _ in 0..<3 { _ = client.reply() }
        #expect(client.reply().hasPrefix("354"))
        client.send(String(buffer: DotStuffer.stuffed(Array(message.utf8))))
        #expect(client.reply() == "250 2.0.0 Ok: queued as FAKE1\r\n")
        let received = server.received.withLock { $0 }.first ?? ""
        let expected = Array(String(buffer: DotStuffer.stuffed(Array(message.utf8))).utf8.dropLast(3))
        let got = Array(received.utf8)
        let same = got == expected
        let firstDifference = (0..<min(got.count, expected.count)).first(where: { got[$0] != expected[$0] }) ?? min(got.count, expected.count)
        #expect(same, "\(got.count) bytes received, \(expected.count) expected, first difference at \(firstDifference): \(String(decoding: got[max(0, firstDifference - 40)..<min(got.count, firstDifference + 40)], as: UTF8.self))")
    }

    @Test func messageOverMaxMessageSizeIsReadToTheEndAndRefusedWith552() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, config: "MaxMessageSize = 1mb\n",
                                               mailD: "SpoolThreshold = 64kb")
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        var body = ""
        for i in 0..<40_000 { body += ".line \(i) with some text to make it longer than usual padding\r\n" }
        let message = "Subject: big\r\n\r\n" + body
        #expect(message.utf8.count > 2 << 20)
        let client = try LineClient(port: gate.port)
        _ = client.reply()
        client.send("EHLO c\r\n")
        // The Gate's limit is announced: the lower of the server's 10240000 and 1 MB.
        #expect(client.reply().contains("250-SIZE 1048576\r\n"))
        client.send("MAIL FROM:<a@example.com> SIZE=\(message.utf8.count)\r\n")
        #expect(client.reply() == "552 5.3.4 Message size exceeds fixed limit\r\n")
        client.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        for _ in 0..<2 { _ = client.reply() }
        #expect(client.reply().hasPrefix("354"))
        // The spool never holds more than the limit while the rest is read and dropped.
        let half = message.utf8.count / 2
        let stuffed = String(buffer: DotStuffer.stuffed(Array(message.utf8)))
        client.send(String(stuffed.prefix(half)))
        try await Task.sleep(for: .milliseconds(300))
        let spooled = ((try? FileManager.default.contentsOfDirectory(atPath: gate.varDir + "/gate")) ?? [])
            .compactMap { try? FileManager.default.attributesOfItem(atPath: gate.varDir + "/gate/" + $0)[.size] as? Int }
        #expect(spooled.allSatisfy { $0 <= 1 << 20 }, "\(spooled)")
        client.send(String(stuffed.dropFirst(half)))
        #expect(client.reply() == "552 5.3.4 Error: message file too big\r\n")
        // Nothing reached the server; the session goes on.
        client.send("NOOP\r\n")
        #expect(client.reply() == "250 2.0.0 Ok\r\n")
        #expect(server.received.withLock { $0 }.isEmpty)
        #expect(!server.commands.withLock { $0 }.contains("DATA"))
        // The dropped spool file is removed off the event loop, once its last write is done.
        #expect(await eventually(within: .seconds(30)) { ((try? FileManager.default.contentsOfDirectory(atPath: gate.varDir + "/gate")) ?? []).isEmpty })
    }

    @Test func startTLSInjectionIsDiscardedAndTheSessionGoesBlind() async throws {
        let server = try await FakeSMTPServer(ehlo: ["fake", "STARTTLS"])
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let client = try LineClient(port: gate.port)
        _ = client.reply()
        client.send("EHLO c\r\n")
        #expect(client.reply() == "250-fake\r\n250 STARTTLS\r\n")
        client.send("STARTTLS\r\nMAIL FROM:<injected@evil>\r\n")
        #expect(client.reply() == "250 2.0.0 Ok\r\n") // the fake server answers STARTTLS with 250: not 220
        client.send("NOOP\r\n")
        #expect(client.reply() == "250 2.0.0 Ok\r\n")
        let commands = server.commands.withLock { $0 }
        #expect(!commands.contains { $0.contains("injected") })
    }

    /// CVE-2011-0411, server to client: bytes the server sends with its 220 to STARTTLS would
    /// reach the client in plaintext, as if from inside TLS. The client sees the 220 and nothing
    /// more (the session then goes blind here: UnwrapSsl is off).
    @Test func serverBytesInjectedWithThe220NeverReachTheClient() async throws {
        let pki = try TestPKI(dir: GateFixtures.temporaryDirectory(), serverName: "smtp.example.org")
        let server = try await FakeSMTPServer(tls: try pki.serverContext(), afterStartTLS: "250-injected\r\n250 OK\r\n")
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let port = gate.port
        let after = try await offPool { () -> [String] in
            let client = try LineClient(port: port)
            _ = client.reply()
            client.send("EHLO c\r\n")
            _ = client.reply()
            client.send("STARTTLS\r\n")
            var timeout = timeval(tv_sec: 1, tv_usec: 0)
            var lines = [client.readLine() ?? ""]
            setsockopt(client.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            while let line = client.readLine() { lines.append(line) }
            return lines
        }
        #expect(after == ["220 2.0.0 Ready to start TLS\r\n"])
    }

    @Test func keepAliveNOOPsTheServerWhileTheClientIsSlow() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        var timeouts = GateTimeouts()
        timeouts.tick = .milliseconds(100)
        timeouts.keepAlive = .milliseconds(300)
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, timeouts: timeouts)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let client = try LineClient(port: gate.port)
        _ = client.reply()
        client.send("EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        for _ in 0..<3 { _ = client.reply() }
        #expect(client.reply().hasPrefix("354"))
        client.send("Subject: slow\r\n\r\n")
        try await Task.sleep(for: .milliseconds(1000))
        client.send("done\r\n.\r\n")
        #expect(client.reply() == "250 2.0.0 Ok: queued as FAKE1\r\n")
        #expect(server.commands.withLock { $0 }.contains("NOOP"))
    }

    @Test func silentClientIsTimedOut() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        var timeouts = GateTimeouts()
        timeouts.tick = .milliseconds(100)
        timeouts.clientIdle = .milliseconds(400)
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, timeouts: timeouts)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let client = try LineClient(port: gate.port)
        _ = client.reply()
        #expect(client.reply().hasPrefix("421 4.4.2"))
    }
}
