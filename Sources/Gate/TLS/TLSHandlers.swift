import Logging
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Sits behind the upstream TLS handler: reports the end of the handshake with the server's
/// certificate, and holds any plaintext that arrives before the relay is attached.
final class HandshakeGate: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    var onHandshake: ((Result<Certificate?, any Error>) -> Void)? {
        didSet {
            if let pending, let callback = onHandshake {
                self.pending = nil
                onHandshake = nil  // called once; see handlerRemoved
                callback(pending)
            }
        }
    }
    private var pending: Result<Certificate?, any Error>?
    private var held: [ByteBuffer] = []
    private var context: ChannelHandlerContext?
    private var reported = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// The callback captures this gate (to release it): dropping it and the context here
    /// breaks that cycle when the handler leaves the pipeline, however the session ended.
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        onHandshake = nil
    }

    private func report(_ outcome: Result<Certificate?, any Error>) {
        guard !reported else { return }
        reported = true
        if let onHandshake {
            self.onHandshake = nil
            onHandshake(outcome)
        } else {
            pending = outcome
        }
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

/// Sits behind the client-facing TLS handler: tells whether the client completed the handshake
/// with Moat's leaf or refused it (a client that does not trust Moat's CA, or pins the real
/// server's certificate), so the refusal is logged and, per `PassThroughRejectingClients`, the
/// pair is relayed untouched next time.
final class ClientHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let rejected: (any Error) -> Void
    private var done = false

    init(rejected: @escaping (any Error) -> Void) { self.rejected = rejected }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent, !done {
            done = true
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            rejected(error)
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            rejected(ChannelError.eof)
        }
        context.fireChannelInactive()
    }
}
