import CertificateStore
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOTLS
import Testing
@testable import Gate

/// The TLS set-up's handlers hold closures that point back at them (the SNI handler's callback,
/// the handshake gate's callback): each session must still be freed when it ends, or a busy
/// gateway grows by tens of kilobytes per TLS session (seen with Benchmarks/Gate/tls.sh).
@Suite struct TLSLifetimeTests {
    @Test(arguments: ["handshake", "failure", "close"])
    func handshakeGateIsFreedWithItsChannel(ending: String) throws {
        weak var weakGate: HandshakeGate?
        do {
            let channel = EmbeddedChannel()
            let gate = HandshakeGate()
            weakGate = gate
            try channel.pipeline.syncOperations.addHandler(gate)
            // As TLSUnwrapper's: the callback releases (so captures) the gate itself on success.
            gate.onHandshake = { outcome in if case .success = outcome { gate.release() } }
            switch ending {
            case "handshake": channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
            case "failure": channel.pipeline.fireErrorCaught(GateTestFailure("handshake failed"))
            default: break
            }
            _ = try? channel.finish()
        }
        #expect(weakGate == nil)
    }

    @Test func unwrapperHandlersAreFreedWithTheSession() throws {
        let root = GateFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let authority = try CertificateAuthority.loadOrCreate(.init(directory: root + "/ca"))
        let unwrapper = TLSUnwrapper(tls: try TLSInterception(authority: authority), passThrough: TLSPassThroughList(),
                                     logger: Logger(label: "test"))
        weak var weakSNI: ByteToMessageHandler<SNIHandler>?
        let decided = MutexBox<String?>(nil)
        do {
            let client = EmbeddedChannel(), server = EmbeddedChannel()
            try client.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            try unwrapper.intercept(
                client: client, port: 587, settings: GateSettings(), pair: .init(client: "127.0.0.1", server: "127.0.0.1:587"),
                upstream: .existing(server),
                callbacks: .init(shouldUnwrap: { _ in false },
                                 unwrapped: { _, _ in decided.value = "unwrapped" },
                                 blind: { decided.value = "blind" },
                                 failed: { decided.value = "failed" }))
            weakSNI = try client.pipeline.syncOperations.handler(type: ByteToMessageHandler<SNIHandler>.self)
            // Not a ClientHello: the SNI handler falls back, the session is relayed blindly.
            try client.writeInbound(ByteBuffer(string: "EHLO not-tls.example\r\n"))
            _ = try? client.finish()
            _ = try? server.finish()
        }
        #expect(decided.value == "blind")
        #expect(weakSNI == nil, "the SNI handler (and what its callback holds) outlives the session")
    }
}
