// IMAP framing without I/O (RFC 9051 / RFC 3501 syntax, RFC 7888 LITERAL+/LITERAL-, RFC 3516
// literal8). A command or response is a line that may be interrupted by literals: a line segment
// ending in `{n}`, `{n+}`, `{n-}` or `~{n}` (outside a quoted string) right before its CRLF is
// followed by exactly n raw bytes, then the line goes on. The framer hands out segments and
// literal bytes as they complete, so callers can stream big literals or hold them.
import NIOCore

/// A literal announcement at the end of a line segment.
public struct IMAPLiteralMarker: Sendable, Equatable, Hashable {
    public enum Form: Sendable, Equatable, Hashable {
        /// `{n}`: the client waits for a "+" continuation before sending the bytes.
        case synchronizing
        /// `{n+}` (LITERAL+).
        case nonSynchronizing
        /// `{n-}` (LITERAL-).
        case nonSynchronizingMinus
    }

    public var length: Int
    /// `~{n}`: literal8 (BINARY), may contain NUL.
    public var binary: Bool
    public var form: Form

    public init(length: Int, binary: Bool = false, form: Form = .synchronizing) {
        self.length = length
        self.binary = binary
        self.form = form
    }

    /// The marker as it goes on the wire, CRLF included.
    public var wireBytes: [UInt8] {
        var text = binary ? "~{" : "{"
        text += String(length)
        switch form {
        case .synchronizing: break
        case .nonSynchronizing: text += "+"
        case .nonSynchronizingMinus: text += "-"
        }
        text += "}\r\n"
        return Array(text.utf8)
    }

    /// Finds a marker at the end of a segment's text (`text` excludes the line ending): the
    /// offset where it starts and the marker. Quoted strings are skipped, so `"{5}"` is no marker.
    static func find(in text: ByteBufferView) -> (offset: Int, marker: IMAPLiteralMarker)? {
        guard let last = text.last, last == UInt8(ascii: "}") else { return nil }
        var inQuote = false
        var escaped = false
        var lastOpen: Int?
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if inQuote {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inQuote = false }
            } else if byte == UInt8(ascii: "\"") {
                inQuote = true
            } else if byte == UInt8(ascii: "{") {
                lastOpen = index
            }
            index += 1
        }
        guard !inQuote, let open = lastOpen else { return nil }
        var digitsEnd = text.endIndex - 1  // index of "}"
        var form = IMAPLiteralMarker.Form.synchronizing
        if digitsEnd > open + 1 {
            let sign = text[digitsEnd - 1]
            if sign == UInt8(ascii: "+") { form = .nonSynchronizing; digitsEnd -= 1 }
            else if sign == UInt8(ascii: "-") { form = .nonSynchronizingMinus; digitsEnd -= 1 }
        }
        let digitCount = digitsEnd - (open + 1)
        guard digitCount > 0, digitCount <= 18 else { return nil }
        var length = 0
        for i in (open + 1)..<digitsEnd {
            let byte = text[i]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            length = length * 10 + Int(byte - UInt8(ascii: "0"))
        }
        var start = open
        var binary = false
        if open > text.startIndex, text[open - 1] == UInt8(ascii: "~") {
            binary = true
            start = open - 1
        }
        return (start - text.startIndex, IMAPLiteralMarker(length: length, binary: binary, form: form))
    }
}

public enum IMAPDecodeError: Error, Sendable, Equatable {
    case lineTooLong(limit: Int)
}

public struct IMAPFramer: Sendable {
    public enum Direction: Sendable, Equatable {
        /// Server responses: continuation requests ("+ ...") and status responses
        /// (OK/NO/BAD/BYE/PREAUTH, tagged or untagged) carry free text, never a literal.
        case fromServer
        case fromClient
    }

    public enum Event: Sendable, Equatable {
        /// A line segment with its line ending. `textLength` is the length before the literal
        /// marker (or before the line ending when there is no marker). `first` marks the first
        /// segment of a command/response. A segment without `literal` ends the command/response.
        case segment(ByteBuffer, textLength: Int, literal: IMAPLiteralMarker?, first: Bool)
        /// Literal bytes (a literal may come in several chunks).
        case literalBytes(ByteBuffer)
        /// The literal announced by the previous segment is complete (also for `{0}`).
        case literalEnd
    }

    enum State: Sendable, Equatable {
        case line(first: Bool)
        case literal(remaining: Int)
        case literalDone
    }

    public let direction: Direction
    public let maxLineLength: Int
    private var buffer = ByteBuffer()
    private var state = State.line(first: true)
    private var literalStarted = false
    private var literalForm = IMAPLiteralMarker.Form.synchronizing

    public init(direction: Direction, maxLineLength: Int) {
        self.direction = direction
        self.maxLineLength = maxLineLength
    }

    public var bufferedBytes: Int { buffer.readableBytes }

    /// True at a command/response boundary with nothing buffered.
    public var isIdle: Bool { state == .line(first: true) && buffer.readableBytes == 0 }
    /// True at a command/response boundary (bytes of the next one may be buffered).
    public var isAtMessageBoundary: Bool { state == .line(first: true) }

    /// True when a synchronizing literal (`{n}` or `~{n}`) was announced and none of its bytes
    /// came yet. (`{n+}`/`{n-}` bytes follow without waiting, whatever the server answers.)
    public var isAwaitingLiteral: Bool {
        if case .literal = state, !literalStarted, literalForm == .synchronizing { return true }
        return false
    }

    public mutating func append(_ bytes: ByteBuffer) {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// The peer was told no to a synchronizing literal (tagged NO/BAD instead of "+"), so its
    /// bytes will not come: the next bytes start a new command.
    public mutating func abandonLiteral() {
        if isAwaitingLiteral { state = .line(first: true) }
    }

    /// Takes whatever is buffered and starts over at a boundary (STARTTLS injection guard).
    public mutating func takeAll() -> ByteBuffer {
        let rest = buffer.readSlice(length: buffer.readableBytes)!
        buffer.clear()
        state = .line(first: true)
        return rest
    }

    public mutating func next() throws(IMAPDecodeError) -> Event? {
        defer { if buffer.readerIndex > 65536 { buffer.discardReadBytes() } }
        switch state {
        case .literalDone:
            state = .line(first: false)
            return .literalEnd
        case .literal(let remaining):
            if remaining == 0 {
                state = .line(first: false)
                return .literalEnd
            }
            let count = min(remaining, buffer.readableBytes)
            guard count > 0 else { return nil }
            literalStarted = true
            let chunk = buffer.readSlice(length: count)!
            state = remaining - count == 0 ? .literalDone : .literal(remaining: remaining - count)
            return .literalBytes(chunk)
        case .line(let first):
            guard let length = try buffer.mailboxLineLength(limit: maxLineLength, tooLong: IMAPDecodeError.lineTooLong(limit: maxLineLength))
            else { return nil }
            let segment = buffer.readSlice(length: length)!
            var textEnd = length - 1
            if textEnd > 0, segment.getInteger(at: segment.readerIndex + textEnd - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                textEnd -= 1
            }
            let text = segment.getSlice(at: segment.readerIndex, length: textEnd)!
            var marker: (offset: Int, marker: IMAPLiteralMarker)?
            if !(direction == .fromServer && first && Self.isFreeTextResponse(text.readableBytesView)) {
                marker = IMAPLiteralMarker.find(in: text.readableBytesView)
            }
            if let marker {
                state = .literal(remaining: marker.marker.length)
                literalStarted = false
                literalForm = marker.marker.form
                return .segment(segment, textLength: marker.offset, literal: marker.marker, first: first)
            }
            state = .line(first: true)
            return .segment(segment, textLength: textEnd, literal: nil, first: first)
        }
    }

    /// "+ ..." or "<tag|*> OK|NO|BAD|BYE|PREAUTH ...".
    static func isFreeTextResponse(_ text: ByteBufferView) -> Bool {
        guard let firstByte = text.first else { return false }
        if firstByte == UInt8(ascii: "+") { return true }
        guard let space = text.firstIndex(of: UInt8(ascii: " ")) else { return false }
        let rest = text[(space + 1)...]
        let end = rest.firstIndex(of: UInt8(ascii: " ")) ?? rest.endIndex
        let word = String(decoding: rest[rest.startIndex..<end], as: UTF8.self).uppercased()
        return ["OK", "NO", "BAD", "BYE", "PREAUTH"].contains(word)
    }
}
