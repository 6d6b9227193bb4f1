import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import X509

/// Implicit TLS (SMTPS 465, IMAPS 993, POP3S 995) with `UnwrapSsl = Yes`: the client's
/// ClientHello is held until the real server has been reached over TLS and its certificate
/// verified; only then is a leaf issued (for the client's SNI and the server's names) and the
/// client's handshake answered. The relay then runs on the plaintext of both legs.
///
/// An upstream that fails verification is never laundered: per `UpstreamVerifyFailure` the
/// client is refused (connection closed) or relayed blindly, encrypted end to end, unscanned.
struct ImplicitTLS {
    let tls: TLSInterception
    let logger: Logger

    /// `startRelay(upstream)` attaches the relay to the client (already behind its TLS
    /// handler) and to the connected, handshaken upstream channel; `startBlind()` relays the
    /// raw bytes (ClientHello included) over a new plain connection.
    func intercept(client: any Channel, port: Int, settings: GateSettings,
                   upstream: @escaping @Sendable (@escaping @Sendable (any Channel) throws -> Void) -> EventLoopFuture<any Channel>,
                   startRelay: @escaping @Sendable (any Channel) throws -> Void,
                   startBlind: @escaping @Sendable () throws -> Void) throws {
        let tls = self.tls
        let logger = self.logger
        let sni = ByteToMessageHandler(SNIHandler { result in
            let name: String? = if case .hostname(let host) = result { host } else { nil }
            let policy = TLSInterception.policy(port: port, serverName: name, verifyMx: settings.verifyMxCertificates)
            let done = client.eventLoop.makePromise(of: Void.self)
            let gate = HandshakeGate()
            upstream { channel in
                try channel.pipeline.syncOperations.addHandler(try tls.upstreamHandler(policy, serverName: name))
                try channel.pipeline.syncOperations.addHandler(gate)
            }.whenComplete { result in
                switch result {
                case .failure(let error):
                    logger.warning("cannot reach the server over TLS", metadata: ["error": "\(error)"])
                    client.close(promise: nil)
                    done.succeed(())
                case .success(let channel):
                    gate.onHandshake = { outcome in
                        switch outcome {
                        case .success(let certificate):
                            do {
                                let leaf = try tls.clientHandler(serverName: name, upstream: certificate)
                                // Behind the SNI handler, which hands the held ClientHello on to it.
                                try client.pipeline.syncOperations.addHandler(leaf, position: .last)
                                try startRelay(channel)
                                gate.release()
                                logger.debug("TLS unwrapped", metadata: ["sni": "\(name ?? "-")"])
                            } catch {
                                logger.error("cannot unwrap TLS: \(error)")
                                channel.close(promise: nil)
                                client.close(promise: nil)
                            }
                        case .failure(let error):
                            channel.close(promise: nil)
                            logger.warning("the server's certificate failed verification: not unwrapping",
                                           metadata: ["sni": "\(name ?? "-")", "error": "\(error)",
                                                      "action": "\(settings.upstreamVerifyFailure.rawValue)"])
                            if settings.upstreamVerifyFailure == .relay, (try? startBlind()) != nil {
                                // The held ClientHello goes on to the real server unchanged.
                            } else {
                                client.close(promise: nil)
                            }
                        }
                        done.succeed(())
                    }
                }
            }
            return done.futureResult
        })
        // The ClientHello must be read before the relay takes over reading; the Gate accepts
        // with autoRead off, so reading is switched on once the channel is active.
        try client.pipeline.syncOperations.addHandler(ReadWhenActive())
        try client.pipeline.syncOperations.addHandler(sni)
    }
}

/// Sits behind the upstream TLS handler: reports the end of the handshake with the server's
/// certificate, and holds any plaintext that arrives before the relay is attached.
final class HandshakeGate: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    var onHandshake: ((Result<Certificate?, any Error>) -> Void)? {
        didSet { if let pending, let onHandshake { self.pending = nil; onHandshake(pending) } }
    }
    private var pending: Result<Certificate?, any Error>?
    private var held: [ByteBuffer] = []
    private var context: ChannelHandlerContext?
    private var reported = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    private func report(_ outcome: Result<Certificate?, any Error>) {
        guard !reported else { return }
        reported = true
        if let onHandshake { onHandshake(outcome) } else { pending = outcome }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            let certificate = (try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self))?
                .peerCertificate.flatMap(TLSInterception.certificate)
            report(.success(certificate))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.append(unwrapInboundIn(data))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        report(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        report(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }

    /// The relay is attached behind: pass on what was held, then step out of the way.
    func release() {
        guard let context else { return }
        for buffer in held { context.fireChannelRead(wrapInboundOut(buffer)) }
        held.removeAll()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

/// Turns reading on when the channel becomes active (the Gate accepts with autoRead off).
final class ReadWhenActive: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        start(context)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    private func start(_ context: ChannelHandlerContext) {
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        context.read()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
