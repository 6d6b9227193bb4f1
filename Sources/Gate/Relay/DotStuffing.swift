import NIOCore

/// Dot-stuffing of a message on its way out (SMTP DATA, POP3 RETR): every line that starts
/// with "." gets a second one, and the terminating ".\r\n" follows. Works chunk by chunk, so
/// a spooled message is stuffed as it is read; a line may be cut anywhere between chunks.
public struct DotStuffer: Sendable {
    private var atLineStart = true

    public init() {}

    public mutating func stuff(_ bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        var start = 0
        let count = bytes.count
        while start < count {
            if atLineStart, bytes[start] == UInt8(ascii: ".") {
                out.writeInteger(UInt8(ascii: "."))
            }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
            if let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
                let end = start + (newline - rest.startIndex) + 1
                out.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                start = end
                atLineStart = true
            } else {
                out.writeBytes(rest)
                start = count
                atLineStart = false
            }
        }
    }

    public mutating func stuff(_ bytes: [UInt8], into out: inout ByteBuffer) {
        bytes.withUnsafeBytes { stuff($0, into: &out) }
    }

    public mutating func stuff(_ buffer: ByteBuffer, into out: inout ByteBuffer) {
        buffer.withUnsafeReadableBytes { stuff($0, into: &out) }
    }

    /// The end of the message: a line ending if the message lacks its last one, then ".\r\n".
    public mutating func finish(into out: inout ByteBuffer) {
        if !atLineStart { out.writeString("\r\n") }
        out.writeString(".\r\n")
        atLineStart = true
    }

    /// The whole message stuffed at once (small messages, tests).
    public static func stuffed(_ message: [UInt8]) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(message.count + message.count / 64 + 8)
        var stuffer = DotStuffer()
        stuffer.stuff(message, into: &out)
        stuffer.finish(into: &out)
        return out
    }
}
