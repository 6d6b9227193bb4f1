import CertificateStore
import Foundation
import SystemSetupSupport
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing
@testable import Gate

/// The two legs of an unwrapped session, each against OpenSSL: clients that trust Moat's CA
/// accept the leaf for the name they asked for; upstream certificates are verified unless the
/// policy says port-25 opportunistic TLS.
@Suite(.serialized) struct TLSInterceptionTests {
    let root: String
    let authority: CertificateAuthority
    let tls: TLSInterception

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("moat-tls-\(UUID().uuidString)").path
        authority = try CertificateAuthority.loadOrCreate(.init(directory: root + "/ca"))
        tls = try TLSInterception(authority: authority)
    }

    func openssl(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let out = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = inp
        try process.run()
        inp.fileHandleForWriting.write(Data(input.utf8))
        try? inp.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A TLS server on loopback presenting Moat's leaf for `name`; answers one line.
    func leafServer(name: String) async throws -> any Channel {
        let context = try tls.serverContext(serverName: name, upstream: nil)
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    @Test func clientTrustingTheCAAcceptsTheLeafForItsName() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try await leafServer(name: "mail.example.org")
        defer { server.close(promise: nil) }
        let port = server.localAddress!.port!
        let ok = try openssl(["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "mail.example.org",
                              "-CAfile", root + "/ca/ca.pem", "-verify_hostname", "mail.example.org", "-verify_return_error", "-brief"])
        #expect(ok.output.contains("Verification: OK"), "\(ok.output)")
        let untrusted = try openssl(["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "mail.example.org",
                                     "-verify_return_error", "-brief"])
        #expect(untrusted.status != 0, "a client without Moat's CA fails the handshake")
    }

    @Test func ownServerCertificateIsPresentedInsteadOfALeaf() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/pki", withIntermediateDirectories: true)
        let pki = try TestPKI(dir: root + "/pki", serverName: "mail.example.org")
        let own = root + "/own.pem"
        let combined = try String(contentsOfFile: pki.certificateFile, encoding: .utf8) + String(contentsOfFile: pki.keyFile, encoding: .utf8)
        try combined.write(toFile: own, atomically: true, encoding: .utf8)
        chmod(own, 0o644)
        #expect(throws: (any Error).self, "a key file others can read is refused") {
            try TLSInterception(authority: authority, ownCertificates: [own])
        }
        chmod(own, 0o600)
        let withOwn = try TLSInterception(authority: authority, ownCertificates: [own])
        func serve(_ name: String) async throws -> any Channel {
            let context = try withOwn.serverContext(serverName: name, upstream: nil)
            return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }
        let owned = try await serve("MAIL.example.org")
        defer { owned.close(promise: nil) }
        let real = try openssl(["s_client", "-connect", "127.0.0.1:\(owned.localAddress!.port!)", "-servername", "mail.example.org",
                                "-CAfile", pki.caFile, "-verify_hostname", "mail.example.org", "-verify_return_error", "-brief"])
        #expect(real.output.contains("Verification: OK"), "the server's own certificate, from its own CA: \(real.output)")
        let other = try await serve("other.example.org")
        defer { other.close(promise: nil) }
        let forged = try openssl(["s_client", "-connect", "127.0.0.1:\(other.localAddress!.port!)", "-servername", "other.example.org",
                                  "-CAfile", root + "/ca/ca.pem", "-verify_hostname", "other.example.org", "-verify_return_error", "-brief"])
        #expect(forged.output.contains("Verification: OK"), "other names still get Moat's leaf: \(forged.output)")
        #expect(OwnServerCertificates.matches("*.example.org", "imap.example.org"))
        #expect(!OwnServerCertificates.matches("*.example.org", "a.b.example.org"))
        #expect(!OwnServerCertificates.matches("*.example.org", "example.org"))
    }

    @Test func clientsOfferingOnlyTLS12OrOnlyTLS13AreBothServed() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let server = try await leafServer(name: "mail.example.org")
        defer { server.close(promise: nil) }
        let port = server.localAddress!.port!
        for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
            let result = try openssl(["s_client", "-connect", "127.0.0.1:\(port)", flag, "-servername", "mail.example.org",
                                      "-CAfile", root + "/ca/ca.pem", "-verify_hostname", "mail.example.org", "-verify_return_error", "-brief"])
            #expect(result.output.contains("Protocol version: \(version)") && result.output.contains("Verification: OK"),
                    "\(flag): \(result.output)")
        }
        let old = try openssl(["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_1", "-servername", "mail.example.org", "-brief"])
        #expect(old.status != 0, "TLS 1.1 is refused")
    }

    @Test func upstreamPolicies() {
        #expect(TLSInterception.policy(port: 25, serverName: "mx.example.org", verifyMx: .no) == .opportunistic)
        #expect(TLSInterception.policy(port: 25, serverName: "mx.example.org", verifyMx: .yes) == .verify(hostname: "mx.example.org"))
        #expect(TLSInterception.policy(port: 993, serverName: "imap.example.org", verifyMx: .no) == .verify(hostname: "imap.example.org"))
        #expect(TLSInterception.policy(port: 465, serverName: nil, verifyMx: .no) == .chainOnly)
        #expect(TLSInterception.policy(port: 587, serverName: "192.0.2.1", verifyMx: .no) == .chainOnly)
        // DANE: the TLSA base domain is the MX name the client sent; without one, opportunistic.
        #expect(TLSInterception.policy(port: 25, serverName: "mx.example.org", verifyMx: .dane) == .dane(hostname: "mx.example.org"))
        #expect(TLSInterception.policy(port: 25, serverName: nil, verifyMx: .dane) == .opportunistic)
        #expect(TLSInterception.policy(port: 587, serverName: "smtp.example.org", verifyMx: .dane) == .verify(hostname: "smtp.example.org"))
    }

    /// A server with a self-signed certificate, as a misconfigured or hostile upstream.
    func selfSignedServer() throws -> (Process, Int) {
        _ = try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                         "-keyout", root + "/bad.key", "-out", root + "/bad.pem", "-days", "2", "-subj", "/CN=imap.example.org",
                         "-addext", "subjectAltName=DNS:imap.example.org"])
        let port = try LoopbackPorts.reserve()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", root + "/bad.pem", "-key", root + "/bad.key", "-quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts; a slow machine may take longer than any fixed pause.
        for _ in 0..<200 where !PrivatePostgres.canConnect(port: port) { usleep(50_000) }
        return (process, port)
    }

    func handshake(port: Int, policy: TLSInterception.UpstreamPolicy) async throws -> Bool {
        let tls = self.tls
        let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Bool.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try tls.upstreamHandler(policy, serverName: "imap.example.org"))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }

    @Test func invalidUpstreamCertificateIsNotLaundered() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (server, port) = try selfSignedServer()
        defer { server.terminate() }
        #expect(try await handshake(port: port, policy: .verify(hostname: "imap.example.org")) == false,
                "a self-signed upstream fails verification")
        #expect(try await handshake(port: port, policy: .opportunistic) == true, "port 25 opportunistic TLS accepts it")
    }
}

/// Completes with true on a finished handshake, false on a TLS error or close.
final class HandshakeWatcher: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Bool>

    init(promise: EventLoopPromise<Bool>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { promise.succeed(true) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(false)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(false)
    }
}
