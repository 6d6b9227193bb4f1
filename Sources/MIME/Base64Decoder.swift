/// Streaming, lenient base64 decoder: feed any chunks, in any split, then `finish`.
///
/// Whitespace and line length are ignored; characters outside the alphabet are
/// skipped (and flagged); missing padding is accepted; `=` ends a quantum, and data
/// after it starts a new one, so concatenated base64 blobs decode as the MUAs do.
public struct Base64Decoder: Sendable {
    private var accumulator: UInt32 = 0
    private var count = 0
    private var sawGarbage = false
    private var sawTruncation = false

    public init() {}

    /// Problems seen so far (`invalidBase64`, `truncatedBase64`).
    public var problems: [MIMEProblem] {
        var p: [MIMEProblem] = []
        if sawGarbage { p.append(.invalidBase64) }
        if sawTruncation { p.append(.truncatedBase64) }
        return p
    }

    public mutating func decode(_ input: [UInt8], into output: inout [UInt8]) {
        decode(input[...], into: &output)
    }

    public mutating func decode(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + input.count / 4 * 3 + 3)
        input.withUnsafeBufferPointer { buffer in
            for c in buffer {
                let v = Base64Decoder.table[Int(c)]
                if v < 64 {
                    accumulator = accumulator << 6 | UInt32(v)
                    count += 1
                    if count == 4 {
                        output.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                        output.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                        output.append(UInt8(truncatingIfNeeded: accumulator))
                        accumulator = 0
                        count = 0
                    }
                } else if v == Base64Decoder.pad {
                    flushQuantum(into: &output)
                } else if v == Base64Decoder.invalid {
                    sawGarbage = true
                }
            }
        }
    }

    /// Emits the bytes of a final partial quantum.
    public mutating func finish(into output: inout [UInt8]) {
        flushQuantum(into: &output)
    }

    private mutating func flushQuantum(into output: inout [UInt8]) {
        switch count {
        case 1: sawTruncation = true
        case 2: output.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            output.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            output.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        default: break
        }
        accumulator = 0
        count = 0
    }

    /// One-shot convenience.
    public static func decode(_ input: ArraySlice<UInt8>) -> [UInt8] {
        var d = Base64Decoder()
        var out: [UInt8] = []
        d.decode(input, into: &out)
        d.finish(into: &out)
        return out
    }

    private static let invalid: UInt8 = 0xFF
    private static let skip: UInt8 = 0xFE
    private static let pad: UInt8 = 0xFD

    private static let table: [UInt8] = {
        var t = [UInt8](repeating: invalid, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        for c in [UInt8(ascii: " "), 0x09, 0x0A, 0x0D, 0x0B, 0x0C] { t[Int(c)] = skip }
        t[Int(UInt8(ascii: "="))] = pad
        return t
    }()
}

/// Base64 encoder for rewritten parts.
public enum Base64Encoder {
    /// Encodes with lines of `lineLength` characters (76 per RFC 2045), each ending with `lineEnding`.
    public static func encode(_ input: [UInt8], lineLength: Int = 76, lineEnding: [UInt8] = [0x0D, 0x0A]) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        let width = Swift.max(4, lineLength / 4 * 4)
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 3 * 4 + input.count / 57 * 2 + 8)
        var column = 0
        var i = 0
        while i < input.count {
            let b0 = UInt32(input[i])
            let b1 = i + 1 < input.count ? UInt32(input[i + 1]) : 0
            let b2 = i + 2 < input.count ? UInt32(input[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < input.count ? alphabet[Int(n >> 6 & 63)] : ASCII.equals)
            out.append(i + 2 < input.count ? alphabet[Int(n & 63)] : ASCII.equals)
            i += 3
            column += 4
            if column >= width {
                out += lineEnding
                column = 0
            }
        }
        if column > 0 { out += lineEnding }
        return out
    }
}
