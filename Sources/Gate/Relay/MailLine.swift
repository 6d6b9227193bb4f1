import NIOCore

/// One line of a line-oriented mail protocol (SMTP, POP3, IMAP) as it came off the wire:
/// the bytes include the terminator (LF or CRLF) so a relay can forward them byte for byte.
/// A line longer than the decoder's limit arrives in pieces; all but the last have
/// `isComplete == false`.
public struct MailLine: Sendable, Hashable, CustomStringConvertible {
    public var bytes: ByteBuffer
    public var isComplete: Bool

    public init(_ bytes: ByteBuffer, isComplete: Bool = true) {
        self.bytes = bytes
        self.isComplete = isComplete
    }

    public init(_ text: String, isComplete: Bool = true) {
        self.init(ByteBuffer(string: text), isComplete: isComplete)
    }

    /// The line without its terminator, as text (for commands and replies, which are ASCII).
    public var text: String {
        var view = bytes.readableBytesView[...]
        if view.last == UInt8(ascii: "\n") { view = view.dropLast() }
        if view.last == UInt8(ascii: "\r") { view = view.dropLast() }
        return String(decoding: view, as: UTF8.self)
    }

    public var description: String { isComplete ? text : text + "…" }
}

/// Splits a byte stream into lines at LF (a CR before it stays in the line). A line that
/// has no LF within `maximumLength` bytes is cut into `maximumLength`-byte pieces, so the
/// decoder's memory is bounded and the output does not depend on how the input was split
/// across reads (ByteToMessageDecoderVerifier checks exactly that).
public struct MailLineDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = MailLine

    public let maximumLength: Int

    public init(maximumLength: Int = 64 * 1024) {
        precondition(maximumLength > 0)
        self.maximumLength = maximumLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> MailLine? {
        let view = buffer.readableBytesView
        let window = view.prefix(maximumLength)
        if let newline = window.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - view.startIndex + 1
            return MailLine(buffer.readSlice(length: length)!, isComplete: true)
        }
        if buffer.readableBytes >= maximumLength {
            return MailLine(buffer.readSlice(length: maximumLength)!, isComplete: false)
        }
        return nil
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MailLine? {
        if let line = try decode(buffer: &buffer) { return line }
        guard seenEOF, buffer.readableBytes > 0 else { return nil }
        return MailLine(buffer.readSlice(length: buffer.readableBytes)!, isComplete: false)
    }
}
