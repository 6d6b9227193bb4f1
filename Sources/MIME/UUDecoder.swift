/// Streaming, lenient uudecoder.
///
/// Lines before `begin NNN name` are skipped; `end` (or a zero-length line followed
/// by `end`) stops decoding; anything after is ignored. Short lines (encoders strip
/// trailing spaces) decode what they hold; characters are taken modulo 64 so that
/// both space and backquote work as zero.
public struct UUDecoder: Sendable {
    private enum Phase: Sendable { case beforeBegin, data, done }

    private var phase: Phase = .beforeBegin
    private var line: [UInt8] = []
    private var lineOverflow = false
    private var sawInvalid = false
    private var sawBegin = false
    /// File name from the `begin` line, if seen.
    public private(set) var fileName: String?
    /// Permission bits from the `begin` line, if seen.
    public private(set) var mode: Int?

    /// Longest line kept; longer lines are not uuencoded data.
    private static let maxLineLength = 4096

    public init() {}

    public var problems: [MIMEProblem] {
        var p: [MIMEProblem] = []
        if sawInvalid || !sawBegin { p.append(.invalidUUEncode) }
        if sawBegin && phase != .done { p.append(.missingUUEncodeEnd) }
        return p
    }

    public mutating func decode(_ input: [UInt8], into output: inout [UInt8]) {
        decode(input[...], into: &output)
    }

    public mutating func decode(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var start = input.startIndex
        while start < input.endIndex {
            if phase == .done { return }
            if let lf = input[start...].firstIndex(of: ASCII.lf) {
                append(input[start..<lf])
                processLine(into: &output)
                start = lf + 1
            } else {
                append(input[start...])
                start = input.endIndex
            }
        }
    }

    public mutating func finish(into output: inout [UInt8]) {
        if !line.isEmpty || lineOverflow { processLine(into: &output) }
    }

    private mutating func append(_ bytes: ArraySlice<UInt8>) {
        if line.count + bytes.count > Self.maxLineLength {
            lineOverflow = true
            return
        }
        line += bytes
    }

    private mutating func processLine(into out: inout [UInt8]) {
        defer {
            line.removeAll(keepingCapacity: true)
            lineOverflow = false
        }
        var content = line[...]
        while let last = content.last, last == ASCII.cr || ASCII.isWSP(last) && phase != .data { content = content.dropLast() }
        if content.last == ASCII.cr { content = content.dropLast() }
        switch phase {
        case .beforeBegin:
            if let (mode, name) = UUDecoder.parseBegin(content) {
                self.mode = mode
                self.fileName = name
                sawBegin = true
                phase = .data
            }
        case .data:
            if lineOverflow { sawInvalid = true; return }
            if isEndLine(content) { phase = .done; return }
            guard let first = content.first else { return }  // blank line inside data: skip
            let length = Int((first &- 0x20) & 0x3F)
            if length == 0 { return }  // the zero-length line before "end"
            var produced = 0
            var p = content.startIndex + 1
            while produced < length {
                var quad: [UInt8] = [0, 0, 0, 0]
                for k in 0..<4 {
                    if p < content.endIndex {
                        let c = content[p]
                        if c < 0x20 || c > 0x60 { sawInvalid = true }
                        quad[k] = (c &- 0x20) & 0x3F
                        p += 1
                    } else if k == 0 {
                        break
                    }
                }
                let bytes = [quad[0] << 2 | quad[1] >> 4, quad[1] << 4 | quad[2] >> 2, quad[2] << 6 | quad[3]]
                for b in bytes where produced < length {
                    out.append(b)
                    produced += 1
                }
                if p >= content.endIndex && produced < length {
                    // Encoders strip trailing spaces, which are zeros: pad with zeros.
                    if (length - produced) > 3 * 4 { sawInvalid = true; break }
                }
            }
        case .done:
            break
        }
    }

    private func isEndLine(_ c: ArraySlice<UInt8>) -> Bool {
        var t = c
        while let last = t.last, ASCII.isWSP(last) { t = t.dropLast() }
        return t.elementsEqual("end".utf8)
    }

    /// `begin 644 name`; the mode must be octal (3-4 digits), the name non-empty.
    static func parseBegin(_ line: ArraySlice<UInt8>) -> (Int, String)? {
        guard line.starts(with: "begin ".utf8) else { return nil }
        var p = line.startIndex + 6
        while p < line.endIndex && line[p] == ASCII.space { p += 1 }
        let modeStart = p
        var mode = 0
        while p < line.endIndex, line[p] >= 0x30, line[p] <= 0x37, p - modeStart < 4 {
            mode = mode * 8 + Int(line[p] - 0x30)
            p += 1
        }
        guard p - modeStart >= 3, p < line.endIndex, line[p] == ASCII.space else { return nil }
        while p < line.endIndex && line[p] == ASCII.space { p += 1 }
        var nameEnd = line.endIndex
        while nameEnd > p && ASCII.isWhitespace(line[nameEnd - 1]) { nameEnd -= 1 }
        guard nameEnd > p else { return nil }
        return (mode, Charset.utf8OrLatin1(line[p..<nameEnd]))
    }

    public static func decode(_ input: ArraySlice<UInt8>) -> (bytes: [UInt8], fileName: String?) {
        var d = UUDecoder()
        var out: [UInt8] = []
        d.decode(input, into: &out)
        d.finish(into: &out)
        return (out, d.fileName)
    }
}

/// Uuencoder for rewritten uuencoded parts.
public enum UUEncoder {
    public static func encode(_ input: [UInt8], fileName: String, mode: Int = 0o644, lineEnding: [UInt8] = [0x0D, 0x0A]) -> [UInt8] {
        func char(_ v: UInt8) -> UInt8 { v == 0 ? 0x60 : v + 0x20 }
        var out = Array("begin \(String(mode, radix: 8)) \(fileName)".utf8) + lineEnding
        var i = 0
        while i < input.count {
            let chunk = input[i..<Swift.min(i + 45, input.count)]
            out.append(char(UInt8(chunk.count)))
            var j = chunk.startIndex
            while j < chunk.endIndex {
                let b0 = chunk[j]
                let b1 = j + 1 < chunk.endIndex ? chunk[j + 1] : 0
                let b2 = j + 2 < chunk.endIndex ? chunk[j + 2] : 0
                out += [char(b0 >> 2), char((b0 << 4 | b1 >> 4) & 63), char((b1 << 2 | b2 >> 6) & 63), char(b2 & 63)]
                j += 3
            }
            out += lineEnding
            i += 45
        }
        out += [0x60] + lineEnding + Array("end".utf8) + lineEnding
        return out
    }
}
