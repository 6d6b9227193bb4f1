import NIOCore

/// Holds what a client sends while its request is checked, instead of not reading at all:
/// a client that hangs up mid-check is noticed at once (its check cancelled, see
/// `ConnectionChecks`), while what it sends meanwhile waits here, up to `limit` bytes, and
/// past that in the socket (reading pauses). Sits first in the pipeline.
public final class InputHold: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    let limit: Int
    private var holding = false
    private var held: ByteBuffer?
    private var context: ChannelHandlerContext?

    public init(limit: Int = 64 * 1024) {
        self.limit = limit
    }

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard holding else {
            context.fireChannelRead(data)
            return
        }
        var buffer = unwrapInboundIn(data)
        if held == nil { held = buffer } else { held!.writeBuffer(&buffer) }
        if held!.readableBytes >= limit {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
    }

    /// From now on what arrives is held.
    public func hold() { holding = true }

    /// What was held goes on, and reading resumes.
    public func release() {
        holding = false
        guard let context else { return }
        if let held {
            self.held = nil
            context.fireChannelRead(wrapInboundOut(held))
        }
        guard context.channel.isActive else { return }
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        context.read()
    }
}
