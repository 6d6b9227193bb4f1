// POP3 codecs without I/O: the client's command lines and the server's replies (status line,
// then for some commands a dot-terminated multi-line body). Whether a reply is multi-line
// depends on the command it answers, so the caller (POP3RelaySession) says so for each reply.
import NIOCore

/// A POP3 protocol error found by a decoder; the session turns it into `close(...)`.
public enum POP3DecodeError: Error, Sendable, Equatable {
    case lineTooLong(limit: Int)
}

/// One client command line, parsed leniently (leading white space skipped, words split at any
/// white space, keyword without case) and sent upstream rebuilt from what was parsed (`wire`):
/// whatever spelling a client uses, the server reads the command the Gate routed its reply by,
/// so a RETR or TOP can never reach the server as something the Gate took for a one-line reply.
public struct POP3Command: Sendable, Equatable {
    public var raw: [UInt8]
    /// Upper-cased keyword ("RETR", "CAPA", ...).
    public var keyword: String
    public var arguments: [String]
    /// Everything after the keyword and the white space behind it (PASS: a password may hold blanks).
    public var rest: [UInt8]
    /// NUL or a CR before the line end: a C server would read a different command.
    public var isMalformed: Bool

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0d).contains(byte) }

    public init(line: [UInt8]) {
        raw = line
        var end = line.count
        if end > 0, line[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        if end > 0, line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let body = line[0..<end]
        isMalformed = body.contains(0) || body.contains(UInt8(ascii: "\r"))
        let trimmed = body.drop(while: Self.isSpace)
        let word = trimmed.prefix(while: { !Self.isSpace($0) })
        keyword = String(decoding: word, as: UTF8.self).uppercased()
        let after = trimmed.dropFirst(word.count).drop(while: Self.isSpace)
        rest = Array(after.reversed().drop(while: Self.isSpace).reversed())
        arguments = rest.split(whereSeparator: Self.isSpace).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The command as the Gate sends it.
    public var wire: ByteBuffer {
        var out = ByteBuffer()
        out.writeString(keyword)
        if keyword == "PASS" {
            if !rest.isEmpty { out.writeString(" "); out.writeBytes(rest) }
        } else {
            for argument in arguments { out.writeString(" " + argument) }
        }
        out.writeString("\r\n")
        return out
    }
}

/// Splits the client's byte stream into lines (CRLF, or a bare LF from lenient clients).
public struct POP3LineDecoder: Sendable {
    public let maxLineLength: Int
    private var buffer = ByteBuffer()

    public init(maxLineLength: Int = 8192) {
        self.maxLineLength = maxLineLength
    }

    public var bufferedBytes: Int { buffer.readableBytes }

    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// The next complete line including its line ending, or nil when more bytes are needed.
    public mutating func next() throws(POP3DecodeError) -> [UInt8]? {
        guard let length = try buffer.mailboxLineLength(limit: maxLineLength, tooLong: POP3DecodeError.lineTooLong(limit: maxLineLength))
        else { return nil }
        let line = buffer.readBytes(length: length)!
        if buffer.readerIndex > 65536 { buffer.discardReadBytes() }
        return line
    }

    /// Takes whatever is buffered (used to discard bytes injected after STLS).
    public mutating func takeAll() -> ByteBuffer {
        let rest = buffer.readSlice(length: buffer.readableBytes)!
        buffer.clear()
        return rest
    }
}

/// Frames the server's replies. A reply is a status line, and when the answered command has a
/// multi-line reply and the status is `+OK`, a body up to and including the ".\r\n" line. Body
/// bytes come out as they arrive (still dot-stuffed) so the caller can stream or hold them.
public struct POP3ResponseFramer: Sendable {
    public enum StatusKind: Sendable, Equatable {
        case ok
        case err
        /// "+ ..." SASL continuation (RFC 5034), never followed by a body.
        case continuation
        /// Anything else: relayed, treated as a single line.
        case other
    }

    public enum Event: Sendable, Equatable {
        case statusLine(ByteBuffer, StatusKind)
        /// Body bytes, dot-stuffed as on the wire, line endings included.
        case bodyBytes(ByteBuffer)
        /// The terminating "." line (".\r\n", or ".\n" from a lenient server).
        case bodyEnd(ByteBuffer)
    }

    public let maxStatusLineLength: Int
    private var buffer = ByteBuffer()
    private var inBody = false
    private var bodyAtLineStart = true

    public init(maxStatusLineLength: Int = 8192) {
        self.maxStatusLineLength = maxStatusLineLength
    }

    public var bufferedBytes: Int { buffer.readableBytes }
    /// True between a multi-line status line and its terminator.
    public var isInBody: Bool { inBody }

    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// Takes whatever is buffered (used to discard server bytes injected after STLS's +OK).
    public mutating func takeAll() -> ByteBuffer {
        let rest = buffer.readSlice(length: buffer.readableBytes)!
        buffer.clear()
        return rest
    }

    /// The next event. `multiLineIfOK` says whether the reply now expected is multi-line when
    /// positive; it is only looked at when a status line completes.
    public mutating func next(multiLineIfOK: Bool) throws(POP3DecodeError) -> Event? {
        defer { if buffer.readerIndex > 65536 { buffer.discardReadBytes() } }
        if !inBody {
            guard let length = try buffer.mailboxLineLength(limit: maxStatusLineLength,
                                                            tooLong: POP3DecodeError.lineTooLong(limit: maxStatusLineLength))
            else { return nil }
            let line = buffer.readSlice(length: length)!
            let kind = Self.kind(of: line)
            if kind == .ok && multiLineIfOK {
                inBody = true
                bodyAtLineStart = true
            }
            return .statusLine(line, kind)
        }
        // Body: find a line that is exactly "." (CRLF or LF). Lines are scanned from their start;
        // a "." at the start of a line whose end has not arrived yet stays buffered.
        let view = buffer.readableBytesView
        var index = view.startIndex
        var lineStart = bodyAtLineStart
        while index < view.endIndex {
            let byte = view[index]
            if lineStart && byte == UInt8(ascii: ".") {
                let next = view.index(after: index)
                if next == view.endIndex { break }
                if view[next] == UInt8(ascii: "\n") {
                    return finishBody(terminatorAt: index, length: 2)
                }
                if view[next] == UInt8(ascii: "\r") {
                    let after = view.index(after: next)
                    if after == view.endIndex { break }
                    if view[after] == UInt8(ascii: "\n") {
                        return finishBody(terminatorAt: index, length: 3)
                    }
                }
            }
            lineStart = byte == UInt8(ascii: "\n")
            index = view.index(after: index)
        }
        let count = index - view.startIndex
        guard count > 0 else { return nil }
        bodyAtLineStart = lineStart
        return .bodyBytes(buffer.readSlice(length: count)!)
    }

    private mutating func finishBody(terminatorAt index: Int, length: Int) -> Event {
        let before = index - buffer.readerIndex
        if before > 0 {
            // Hand out the body first; the terminator comes with the next call.
            bodyAtLineStart = true
            return .bodyBytes(buffer.readSlice(length: before)!)
        }
        inBody = false
        return .bodyEnd(buffer.readSlice(length: length)!)
    }

    static func kind(of line: ByteBuffer) -> StatusKind {
        let view = line.readableBytesView
        func has(_ prefix: String) -> Bool {
            let p = Array(prefix.utf8)
            guard view.count >= p.count else { return false }
            for (offset, byte) in p.enumerated() {
                let c = view[view.startIndex + offset]
                if c != byte && c != (byte | 0x20) { return false }
            }
            return true
        }
        if has("+OK") { return .ok }
        if has("-ERR") { return .err }
        if has("+") { return .continuation }
        return .other
    }
}
