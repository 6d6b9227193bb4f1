// POP3 multi-line bodies (RFC 1939 section 3): every line that starts with "." gets another "."
// in front, and the body ends with a line holding a single ".". The relay unstuffs what it hands
// to the scanner and stuffs what it delivers in place of the server's message.

public enum POP3DotStuffing {
    /// Removes the byte-stuffing of a multi-line body. `body` is what came between the status
    /// line and the terminating ".\r\n" (exclusive). Line endings are kept as they came.
    public static func unstuff(_ body: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        var atLineStart = true
        for byte in body {
            if atLineStart && byte == UInt8(ascii: ".") {
                atLineStart = false
                continue
            }
            out.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
        }
        return out
    }

    /// Stuffs a message for delivery as a multi-line body and appends the terminator. Lines end
    /// in CRLF on the wire: a bare LF becomes CRLF, and a message not ending in a line break gets
    /// one before the ".\r\n" terminator.
    public static func stuff(_ message: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 8)
        var atLineStart = true
        var previous: UInt8 = 0
        for byte in message {
            if atLineStart && byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            if byte == UInt8(ascii: "\n") && previous != UInt8(ascii: "\r") { out.append(UInt8(ascii: "\r")) }
            out.append(byte)
            atLineStart = byte == UInt8(ascii: "\n")
            previous = byte
        }
        if !out.isEmpty && !atLineStart {
            out.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        }
        out.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "\r"), UInt8(ascii: "\n")])
        return out
    }
}
