import NIOCore

/// What the handler is to do with the stored copy of the message being received. The session
/// decides it; the handler's spool (InterfaceSupport's `MessageCollector`) does the file I/O
/// off the event loop.
public enum MessagePiece: Equatable {
    /// A message starts (MAIL): whatever was stored before is dropped; the new one moves to a
    /// spool file once it grows past `spoolThreshold` bytes (its profile's SpoolThreshold).
    case begin(spoolThreshold: Int)
    /// The next bytes of the message, in order.
    case bytes(ByteBuffer)
    /// Drop what is stored (and its spool file) now: the message was aborted, replaced, or
    /// passed the size limit.
    case drop
}

/// Puts the message back together from the milter events, as bytes to store: header fields as
/// the MTA passed them, a blank line, the body chunks. Counts every byte; past `maxSize` the
/// message is "unchecked: too large", what was stored is dropped at once and nothing more is
/// kept, so the spool stays bounded whatever the MTA sends. Pure: no I/O, no copy of the message.
struct MessageFraming {
    let maxSize: Int
    /// Bytes the MTA sent, including those not kept past `maxSize`.
    private(set) var size = 0
    private(set) var tooLarge = false
    private var headersEnded = false

    init(maxSize: Int) {
        self.maxSize = maxSize
    }

    /// `value` as the MTA sent it: folded lines joined by LF; with `leadingSpace` (HDR_LEADSPC)
    /// verbatim after the colon, else with the one space the MTA took off.
    mutating func header(name: String, value: String, leadingSpace: Bool) -> MessagePiece? {
        var line = ByteBufferAllocator().buffer(capacity: name.utf8.count + value.utf8.count + 8)
        line.writeString(name)
        line.writeInteger(UInt8(ascii: ":"))
        if !leadingSpace { line.writeInteger(UInt8(ascii: " ")) }
        // Folded lines come joined by a bare LF; the message stores CRLF. Copied a line at a
        // time, not byte by byte (this was 1.7 % of moatd's instructions per message).
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            while let lf = bytes[start...].firstIndex(of: 0x0A) {
                line.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<lf]))
                if lf == 0 || bytes[lf - 1] != 0x0D { line.writeInteger(UInt8(0x0D)) }
                line.writeInteger(UInt8(0x0A))
                start = lf + 1
            }
            line.writeBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        line.writeBytes([0x0D, 0x0A])
        return keep(line)
    }

    /// The blank line after the header, once, whether EOH came or the body started without it
    /// (Moat asks the MTA not to send EOH).
    mutating func endHeaders() -> MessagePiece? {
        guard !headersEnded else { return nil }
        headersEnded = true
        return keep(ByteBuffer(bytes: [0x0D, 0x0A]))
    }

    /// A body chunk (or the last one, maybe empty), after the blank line if it has not been
    /// stored yet: one piece either way.
    mutating func body(_ chunk: ByteBuffer) -> MessagePiece? {
        guard !headersEnded else { return keep(chunk) }
        headersEnded = true
        var joined = ByteBuffer(bytes: [0x0D, 0x0A])
        var chunk = chunk
        joined.writeBuffer(&chunk)
        return keep(joined)
    }

    /// `bytes` to store, or `.drop` the moment the message passes `maxSize`, or nothing once past it.
    private mutating func keep(_ bytes: ByteBuffer) -> MessagePiece? {
        size += bytes.readableBytes
        guard !tooLarge else { return nil }
        if size > maxSize {
            tooLarge = true
            return .drop
        }
        return .bytes(bytes)
    }
}
