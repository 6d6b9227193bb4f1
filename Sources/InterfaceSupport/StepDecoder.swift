import NIOCore

/// A request decoder that works one `step` at a time, apart from NIO, so tests and the fuzz
/// targets drive it on any split of the input. On the channel, `decode` passes on every part
/// the steps give; at the end (EOF, or the handler removed) the steps run with `atEOF`, and
/// whatever they leave, such as a request cut by EOF, is dropped.
public protocol StepDecoder: ByteToMessageDecoder {
    /// The next part, or nil until more input comes (at EOF: nothing more will come).
    mutating func step(_ buffer: inout ByteBuffer, atEOF: Bool) -> InboundOut?
}

extension StepDecoder {
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let part = step(&buffer, atEOF: false) { context.fireChannelRead(wrapInboundOut(part)) }
        return .needMoreData
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // Called at EOF, or when the handler goes away: either way no more bytes come.
        while let part = step(&buffer, atEOF: true) { context.fireChannelRead(wrapInboundOut(part)) }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}
