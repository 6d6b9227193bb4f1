import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Acknowledges what a TCP peer sent as soon as it is read.
///
/// An MTA's milter client writes some packets that get no reply (Postfix sends SMFIC_MACRO and
/// then the command it belongs to, as two writes). With Nagle on the MTA's side, the second
/// write waits for the ACK of the first, and Linux delays that ACK up to 40 ms hoping to carry
/// it on a reply that never comes: a fixed wait per message that left Postfix + milter over
/// TCP at a sixth of the same over a unix socket, the CPU idle. `TCP_QUICKACK` is not sticky
/// (the kernel returns to delayed ACKs once the connection looks interactive), so it is set
/// again after every read; setting it also sends an ACK that is pending.
public final class QuickAckHandler: ChannelInboundHandler, Sendable {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    public init() {}

    public func channelReadComplete(context: ChannelHandlerContext) {
        #if os(Linux)
        let option = ChannelOptions.Types.SocketOption(level: .tcp, name: .init(rawValue: CInt(TCP_QUICKACK)))
        // A failure only means the socket is already gone; the read path reports that itself.
        try? context.channel.syncOptions?.setOption(option, value: 1)
        #endif
        context.fireChannelReadComplete()
    }
}
