import NIOCore

/// One line of a request head (spamd, rspamd): ended by LF, the CR before it dropped, at most
/// `maxLength` bytes. A line is taken from the buffer only once it is whole, so the decoder
/// holds at most one line however the input is split.
public enum RequestLine: Equatable {
    case text(Substring)
    /// Longer than the limit, whether its LF came yet or not: nothing more is buffered.
    case tooLong
    /// The input ended before the LF; `empty` when no byte of the line came at all.
    case cut(empty: Bool)

    /// The next line, or nil until more input comes.
    public static func next(_ buffer: inout ByteBuffer, maxLength: Int, atEOF: Bool) -> RequestLine? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > maxLength { return .tooLong }
            return atEOF ? .cut(empty: view.isEmpty) : nil
        }
        let length = lf - view.startIndex
        guard length <= maxLength else { return .tooLong }
        var bytes = buffer.readBytes(length: length + 1)!
        bytes.removeLast()
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return .text(Substring(String(decoding: bytes, as: UTF8.self)))
    }
}
