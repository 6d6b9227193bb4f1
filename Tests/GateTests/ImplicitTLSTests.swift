import CertificateStore
import Foundation
import MailD
import MoatConfig
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing
@testable import Gate

/// SMTPS through the Gate with UnwrapSsl = Yes, with swaks as the client and a TLS SMTP
/// server whose certificate chains to a test "public" CA: the client gets a leaf from Moat's
/// CA for its SNI, the message is scanned inside TLS, and an upstream whose certificate does
/// not verify is not laundered.
@Suite(.serialized) struct ImplicitTLSTests {
    let dir = GateFixtures.temporaryDirectory()

    /// A "public" CA and a server certificate for smtp.example.org signed by it.
    func makeUpstreamCertificates() throws {
        _ = try TestPKI(dir: dir, serverName: "smtp.example.org")
    }

    /// The fake SMTP server behind TLS with the given certificate.
    func tlsServer(certificate: String, key: String) async throws -> (FakeSMTPServer, any Channel) {
        let fake = try await FakeSMTPServer()
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))))
        let upstreamPort = fake.port
        // A TLS front that forwards plaintext to the fake server: the server the Gate reaches.
        let front = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(Forwarder(port: upstreamPort))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (fake, front)
    }

    func gate(upstream: Int, trust: String, config: String = "",
              kernel: (@Sendable (String, String, Int, Duration) -> Bool)? = nil) async throws -> (GateService, [any Channel], Int) {
        let text = "[Root]\nVarDir = \(dir)/var\n[MailD]\nReportLanguages = en\n[LinuxFirewall]\nUnwrapSsl = Yes\n" + config
        let store = SettingsStore(try ConfigLoader().load(text: text))
        let core = MailCore(scanner: GateFixtures.scanner, spoolDirectory: dir + "/spool")
        var options = GateService.Options()
        options.hosts = ["127.0.0.1"]
        options.port = 0
        options.transparent = false
        options.upstreamOverride = try SocketAddress(ipAddress: "127.0.0.1", port: upstream)
        options.destinationPortOverride = 465
        options.kernelPassThrough = kernel
        let authority = try CertificateAuthority.loadOrCreate(.init(directory: dir + "/moat-ca"))
        options.tls = try TLSInterception(authority: authority, upstreamTrustRoots: .file(trust))
        let service = GateService(settings: store, core: core, options: options)
        let channels = try await service.bind()
        return (service, channels, channels[0].localAddress!.port!)
    }

    /// swaks waits for the Gate, whose check needs Swift's cooperative threads: run it on a
    /// thread of its own so the test never holds one of those while waiting.
    func swaks(port: Int, body: String, ca: String? = nil) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try self.swaksBlocking(port: port, body: body, ca: ca) })
            }.start()
        }
    }

    func swaksBlocking(port: Int, body: String, ca: String? = nil) throws -> (status: Int32, output: String) {
        try body.write(toFile: dir + "/message.eml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/swaks")
        process.arguments = ["--server", "127.0.0.1:\(port)", "--tls-on-connect", "--tls-sni", "smtp.example.org",
                             "--tls-verify", "--tls-ca-path", ca ?? dir + "/moat-ca/ca.pem", "--timeout", "60",
                             "--from", "alice@example.com", "--to", "bob@example.org", "--data", dir + "/message.eml"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func cleanMailPassesInsideTLSAndEicarIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeUpstreamCertificates()
        let (fake, front) = try await tlsServer(certificate: dir + "/srv.pem", key: dir + "/srv.key")
        defer { fake.stop(); front.close(promise: nil) }
        let (_, channels, port) = try await gate(upstream: front.localAddress!.port!, trust: dir + "/pub.pem")
        defer { channels.forEach { $0.close(promise: nil) } }

        let clean = try await swaks(port: port, body: GateFixtures.cleanMessage("tls"))
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("queued as FAKE1"), "the client gets the server's own reply")
        #expect(fake.received.withLock { $0.count } == 1)

        let infected = try await swaks(port: port, body: GateFixtures.eicarMessage())
        #expect(infected.status != 0)
        #expect(infected.output.contains("The message contains a THREAT"), "\(infected.output)")
        #expect(fake.received.withLock { $0.count } == 1, "the threat never reached the server")
    }

    /// Not unwrapped (a rule keeps the session wrapped): the ClientHello the Gate read for its
    /// SNI must still reach the real server, before and whatever the upstream connection's pace.
    @Test func sessionKeptWrappedReachesTheRealServer() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeUpstreamCertificates()
        let (fake, front) = try await tlsServer(certificate: dir + "/srv.pem", key: dir + "/srv.key")
        defer { fake.stop(); front.close(promise: nil) }
        let rule = #"RuleSet = sni_host match "^smtp\\.example\\.org$" : SET unwrap_ssl = no, SCAN_MAIL"# + "\n"
        let (_, channels, port) = try await gate(upstream: front.localAddress!.port!, trust: dir + "/pub.pem", config: rule)
        defer { channels.forEach { $0.close(promise: nil) } }
        let result = try await swaks(port: port, body: GateFixtures.cleanMessage("wrapped"), ca: dir + "/pub.pem")
        #expect(result.status == 0, "the real server's certificate, end to end: \(result.output)")
        #expect(fake.received.withLock { $0.count } == 1)
    }

    /// A client that refuses Moat's certificate on 465 is learned (PassThroughRejectingClients)
    /// and the pair handed to the kernel's pass-through set; when the kernel does not take it
    /// (a full set), the Gate relays the pair untouched itself, as before.
    @Test func aPairLearnedOnImplicitTLSIsHandedToTheKernel() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeUpstreamCertificates()
        let (fake, front) = try await tlsServer(certificate: dir + "/srv.pem", key: dir + "/srv.key")
        defer { fake.stop(); front.close(promise: nil) }
        let handed = HandedPairs()
        let (service, channels, port) = try await gate(
            upstream: front.localAddress!.port!, trust: dir + "/pub.pem",
            config: "PassThroughRejectingClients = Yes\nPassThroughTime = 10m\n",
            kernel: { client, server, port, duration in handed.add("\(client) \(server):\(port) \(duration == .seconds(600))") })
        defer { channels.forEach { $0.close(promise: nil) } }
        let refused = try await swaks(port: port, body: GateFixtures.cleanMessage("pinned"), ca: dir + "/pub.pem")
        #expect(refused.status != 0, "the client refuses Moat's leaf: \(refused.output)")
        let deadline = Date().addingTimeInterval(30)
        while handed.pairs.isEmpty, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(handed.pairs == ["127.0.0.1 127.0.0.1:465 true"], "client, server, implicit-TLS port, PassThroughTime")
        #expect(service.passThrough.count == 1)
        // The kernel said no (kernel: false): the next session is relayed untouched by the Gate.
        let second = try await swaks(port: port, body: GateFixtures.cleanMessage("pinned"), ca: dir + "/pub.pem")
        #expect(second.status == 0, "the real server's certificate, end to end: \(second.output)")
        #expect(fake.received.withLock { $0.count } == 1)
        #expect(handed.pairs.count == 1, "nothing new learned")
    }

    /// A client that connects to 465 and sends no ClientHello (or a byte of one, then nothing)
    /// is closed after HandshakeTimeout: it cannot hold a connection for ever.
    @Test(arguments: [[], [0x16], [0x16, 0x03, 0x01, 0x00]])
    func aClientWithoutAClientHelloIsClosed(_ prefix: [UInt8]) async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeUpstreamCertificates()
        let (fake, front) = try await tlsServer(certificate: dir + "/srv.pem", key: dir + "/srv.key")
        defer { fake.stop(); front.close(promise: nil) }
        let (_, channels, port) = try await gate(upstream: front.localAddress!.port!, trust: dir + "/pub.pem",
                                                 config: "HandshakeTimeout = 1s\n")
        defer { channels.forEach { $0.close(promise: nil) } }
        let (line, waited) = try await offPool { () -> (String?, Duration) in
            let client = try LineClient(port: port)
            if !prefix.isEmpty { client.send(prefix) }
            let started = ContinuousClock.now
            return (client.readLine(), ContinuousClock.now - started)
        }
        #expect(line == nil)
        #expect(waited < .seconds(10), "closed after \(waited)")
    }

    @Test func upstreamWithAnUntrustedCertificateIsNotLaundered() async throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeUpstreamCertificates()
        let (fake, front) = try await tlsServer(certificate: dir + "/srv.pem", key: dir + "/srv.key")
        defer { fake.stop(); front.close(promise: nil) }
        // Trusting only Moat's own CA: the server's certificate cannot verify.
        let (_, channels, port) = try await gate(upstream: front.localAddress!.port!, trust: dir + "/moat-ca-placeholder.pem".replacingOccurrences(of: "-placeholder", with: "/ca"))
        defer { channels.forEach { $0.close(promise: nil) } }
        let result = try await swaks(port: port, body: GateFixtures.cleanMessage("untrusted"))
        #expect(result.status != 0, "the client is refused rather than shown a forged certificate")
        #expect(fake.received.withLock { $0.count } == 0)
    }
}

/// Relays decrypted bytes to a plain TCP port (the fake SMTP server) and back.
final class Forwarder: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let port: Int
    var peer: (any Channel)?
    var pending: [ByteBuffer] = []

    init(port: Int) { self.port = port }

    final class Back: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let front: any Channel
        init(front: any Channel) { self.front = front }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            front.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }
        func channelInactive(context: ChannelHandlerContext) { front.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        let front = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Back(front: front)) }
            }
            .connect(host: "127.0.0.1", port: port).whenSuccess { [self] channel in
                peer = channel
                for buffer in pending { channel.writeAndFlush(buffer, promise: nil) }
                pending.removeAll()
            }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let peer { peer.writeAndFlush(buffer, promise: nil) } else { pending.append(buffer) }
    }

    func channelInactive(context: ChannelHandlerContext) { peer?.close(promise: nil) }
}

/// The pairs a test's Gate handed to the "kernel"; it answers false (a full set).
final class HandedPairs: Sendable {
    private let list = Mutex<[String]>([])
    var pairs: [String] { list.withLock { $0 } }

    func add(_ pair: String) -> Bool {
        list.withLock { $0.append(pair) }
        return false
    }
}
