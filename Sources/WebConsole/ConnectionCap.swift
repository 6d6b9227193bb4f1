import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The connections one console address serves at once (`[HTTPD] MaxConnections`).
final class ConnectionCap: Sendable {
    let limit: Int
    let logger: Logger
    private let state = Mutex<(open: Int, refused: Int, logged: ContinuousClock.Instant?)>((0, 0, nil))

    init(limit: Int, logger: Logger) {
        self.limit = max(1, limit)
        self.logger = logger
    }

    /// Counts a connection in, unless `limit` are open.
    func enter() -> Bool {
        let (admitted, report) = state.withLock { state -> (Bool, Int?) in
            if state.open < limit {
                state.open += 1
                return (true, nil)
            }
            state.refused += 1
            let now = ContinuousClock.now
            if let last = state.logged, now - last < .seconds(10) { return (false, nil) }
            state.logged = now
            defer { state.refused = 0 }
            return (false, state.refused)
        }
        if let report { logger.warning("console: \(limit) connections open, the limit; \(report) more answered 503") }
        return admitted
    }

    func leave() { state.withLock { $0.open -= 1 } }

    var open: Int { state.withLock { $0.open } }
}

/// Counts its connection against the cap; over it, every request is answered `503 Service
/// Unavailable` (over TLS, so browsers and curl show it) and the connection is closed once the
/// request has been read, without reaching the console's routes.
final class ConnectionCapHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let cap: ConnectionCap
    private var counted = false
    private var refused = false

    init(cap: ConnectionCap) { self.cap = cap }

    func handlerAdded(context: ChannelHandlerContext) {
        counted = cap.enter()
        refused = !counted
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted { cap.leave() }
        counted = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard refused else { return context.fireChannelRead(data) }
        guard case .end = unwrapInboundIn(data) else { return }
        let body = context.channel.allocator.buffer(string: "The console is busy (too many connections); try again in a moment.\n")
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; charset=utf-8"
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        fields[.retryAfter] = "10"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .serviceUnavailable, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
