/// Streaming, lenient quoted-printable decoder (RFC 2045 6.7).
///
/// Soft line breaks (`=` CRLF, `=` LF, and `=` followed by transport-added
/// whitespace before the break) are removed; lowercase hex is accepted; a bad escape
/// is passed through literally, as MUAs display it, and flagged.
public struct QuotedPrintableDecoder: Sendable {
    private enum State: Sendable {
        case normal
        case equals              // saw "="
        case hex(UInt8)          // saw "=" and one hex digit (the raw byte)
        case equalsCR            // saw "=\r"
        case equalsSpace([UInt8])  // saw "=" then whitespace
    }

    private var state: State = .normal
    private var sawInvalid = false
    private static let maxPendingWhitespace = 64

    public init() {}

    public var problems: [MIMEProblem] { sawInvalid ? [.invalidQuotedPrintable] : [] }

    public mutating func decode(_ input: [UInt8], into output: inout [UInt8]) {
        decode(input[...], into: &output)
    }

    public mutating func decode(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + input.count)
        input.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                guard case .normal = state else {
                    step(buffer[i], &output)
                    i += 1
                    continue
                }
                // Outside an escape every byte up to the next `=` is text as it is: found by a
                // tight scan and copied at once, not appended byte by byte through the state
                // machine (the most of a quoted-printable body, and a tenth of a message's check).
                var end = i
                while end < buffer.count && buffer[end] != ASCII.equals { end += 1 }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<end]))
                if end < buffer.count { state = .equals }
                i = end + 1
            }
        }
    }

    private mutating func step(_ c: UInt8, _ out: inout [UInt8]) {
        switch state {
        case .normal:
            if c == ASCII.equals { state = .equals } else { out.append(c) }
        case .equals:
            if ASCII.hexValue(c) != nil {
                state = .hex(c)
            } else if c == ASCII.lf {
                state = .normal
            } else if c == ASCII.cr {
                state = .equalsCR
            } else if ASCII.isWSP(c) {
                state = .equalsSpace([c])
            } else {
                invalid(out: &out, pending: [ASCII.equals])
                step(c, &out)
            }
        case .hex(let first):
            if let lo = ASCII.hexValue(c), let hi = ASCII.hexValue(first) {
                out.append(hi << 4 | lo)
                state = .normal
            } else {
                invalid(out: &out, pending: [ASCII.equals, first])
                step(c, &out)
            }
        case .equalsCR:
            // "=\r" then not "\n": treat the lone CR as the soft break.
            state = .normal
            if c != ASCII.lf { step(c, &out) }
        case .equalsSpace(var spaces):
            if ASCII.isWSP(c) && spaces.count < Self.maxPendingWhitespace {
                spaces.append(c)
                state = .equalsSpace(spaces)
            } else if c == ASCII.lf {
                state = .normal
            } else if c == ASCII.cr {
                state = .equalsCR
            } else {
                invalid(out: &out, pending: [ASCII.equals] + spaces)
                step(c, &out)
            }
        }
    }

    private mutating func invalid(out: inout [UInt8], pending: [UInt8]) {
        sawInvalid = true
        out += pending
        state = .normal
    }

    /// Flushes a dangling escape. A lone `=` at the very end is a soft break.
    public mutating func finish(into output: inout [UInt8]) {
        switch state {
        case .normal, .equals, .equalsCR, .equalsSpace: break
        case .hex(let first): invalid(out: &output, pending: [ASCII.equals, first])
        }
        state = .normal
    }

    public static func decode(_ input: ArraySlice<UInt8>) -> [UInt8] {
        var d = QuotedPrintableDecoder()
        var out: [UInt8] = []
        d.decode(input, into: &out)
        d.finish(into: &out)
        return out
    }
}

/// Quoted-printable encoder for rewritten parts. Line breaks in the input (LF or
/// CRLF) become hard breaks written as `lineEnding`; long lines get soft breaks.
public enum QuotedPrintableEncoder {
    public static func encode(_ input: [UInt8], lineEnding: [UInt8] = [0x0D, 0x0A]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(input.count + input.count / 8)
        var line: [UInt8] = []
        func emitHardBreak() {
            // Trailing whitespace would be stripped in transit: encode it.
            if let last = line.last, ASCII.isWSP(last) {
                line.removeLast()
                line += [ASCII.equals, hex[Int(last >> 4)], hex[Int(last & 15)]]
            }
            out += line
            out += lineEnding
            line.removeAll(keepingCapacity: true)
        }
        var i = 0
        while i < input.count {
            let c = input[i]
            if c == ASCII.lf || (c == ASCII.cr && i + 1 < input.count && input[i + 1] == ASCII.lf) {
                emitHardBreak()
                i += c == ASCII.cr ? 2 : 1
                continue
            }
            let piece: [UInt8] = (c == ASCII.equals || c >= 0x7F || (c < 0x20 && c != ASCII.tab))
                ? [ASCII.equals, hex[Int(c >> 4)], hex[Int(c & 15)]] : [c]
            if line.count + piece.count > 75 {
                out += line
                out.append(ASCII.equals)
                out += lineEnding
                line.removeAll(keepingCapacity: true)
            }
            line += piece
            i += 1
        }
        if !line.isEmpty {
            if let last = line.last, ASCII.isWSP(last) {
                line.removeLast()
                line += [ASCII.equals, hex[Int(last >> 4)], hex[Int(last & 15)]]
            }
            out += line
        }
        return out
    }
}
