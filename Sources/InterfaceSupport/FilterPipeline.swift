import NIOCore

/// The pipeline the request/reply filter interfaces (spamd, rspamd, clamd) set up on each
/// connection: half-closure allowed (their clients half-close after the request and wait
/// for the answer), an optional `InputHold` first, the read time-out, then the protocol's own
/// decoder and handler, which `add` installs.
public enum FilterPipeline {
    public static func install(on channel: any Channel, readTimeout: TimeAmount, hold: InputHold? = nil,
                               _ add: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void) -> EventLoopFuture<Void> {
        let hold = hold.map { NIOLoopBound($0, eventLoop: channel.eventLoop) }
        return channel.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).flatMap {
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                if let hold { try sync.addHandler(hold.value) }
                try sync.addHandler(IdleStateHandler(readTimeout: readTimeout))
                try add(sync)
            }
        }
    }
}

/// The handler at the end of that pipeline: it hears the read time-out and the client's
/// half-close (once the decoder before it saw the EOF) as two calls; every event goes on down
/// the pipeline as well.
public protocol FilterConnectionHandler: ChannelInboundHandler {
    func readTimedOut(context: ChannelHandlerContext)
    func inputClosed(context: ChannelHandlerContext)
}

extension FilterConnectionHandler {
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            readTimedOut(context: context)
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
