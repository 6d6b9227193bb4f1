#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 2047 encoded words (`=?charset?B|Q?text?=`) in header values.
///
/// Decoding is lenient in the way MUAs are: words are recognised even when glued to
/// text or inside quotes (a gateway must see what the recipient sees), and adjacent
/// words in the same charset are joined at the byte level before charset decoding,
/// because encoders routinely split a multi-byte UTF-8 sequence across two words.
public enum EncodedWord {
    /// Decodes all encoded words in an unfolded header value; other bytes are taken
    /// as UTF-8 if valid, else Latin-1.
    public static func decode<C: Collection>(_ value: C) -> String where C.Element == UInt8 {
        var problems: [MIMEProblem] = []
        return decode(value, problems: &problems)
    }

    static func decode<C: Collection>(_ value: C, problems: inout [MIMEProblem]) -> String where C.Element == UInt8 {
        let b = Array(value)
        // Most values hold no encoded word: no byte-by-byte walk for them.
        guard hasWordStart(b) else { return Charset.utf8OrLatin1(b) }
        let n = b.count
        var out = ""
        var pendingCharset: String? = nil
        var pendingBytes: [UInt8] = []
        var lastWasWord = false
        var literalStart = 0
        var i = 0

        func flush(_ out: inout String, _ problems: inout [MIMEProblem]) {
            if let cs = pendingCharset {
                out += Charset.decodeLossy(pendingBytes, charset: cs, problems: &problems)
            }
            pendingCharset = nil
            pendingBytes.removeAll(keepingCapacity: true)
        }

        while i + 1 < n {
            guard b[i] == ASCII.equals, b[i + 1] == ASCII.question,
                  let word = parseWord(b, at: i, problems: &problems)
            else { i += 1; continue }
            let literal = b[literalStart..<i]
            // Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
            if !(lastWasWord && literal.allSatisfy(ASCII.isWhitespace)) {
                flush(&out, &problems)
                out += Charset.utf8OrLatin1(literal)
            }
            if let cs = pendingCharset, Charset.normalize(cs) == Charset.normalize(word.charset) {
                pendingBytes += word.bytes
            } else {
                flush(&out, &problems)
                pendingCharset = word.charset
                pendingBytes = word.bytes
            }
            lastWasWord = true
            i = word.end
            literalStart = word.end
        }
        flush(&out, &problems)
        if literalStart < n { out += Charset.utf8OrLatin1(b[literalStart..<n]) }
        return out
    }

    /// Whether `=?` occurs anywhere.
    private static func hasWordStart(_ b: [UInt8]) -> Bool {
        b.withUnsafeBufferPointer { bytes in
            guard var at = bytes.baseAddress else { return false }
            let end = at + bytes.count
            while at < end, let hit = memchr(at, Int32(ASCII.equals), end - at) {
                let equals = hit.assumingMemoryBound(to: UInt8.self)
                if equals + 1 < end && equals[1] == ASCII.question { return true }
                at = UnsafePointer(equals) + 1
            }
            return false
        }
    }

    /// Longest encoded text searched for the closing `?=` (RFC 2047 allows 75 for the
    /// whole word); bounds the work per `=?` so hostile headers stay linear.
    private static let maxWordLength = 512

    private static func parseWord(_ b: [UInt8], at start: Int, problems: inout [MIMEProblem])
        -> (charset: String, bytes: [UInt8], end: Int)?
    {
        let n = b.count
        var j = start + 2
        let charsetStart = j
        while j < n, b[j] != ASCII.question, j - charsetStart < 80 {
            let c = b[j]
            if c <= 0x20 || c >= 0x7F || c == ASCII.equals { return nil }
            j += 1
        }
        guard j < n, b[j] == ASCII.question, j > charsetStart, j + 2 < n, b[j + 2] == ASCII.question else { return nil }
        var charsetBytes = b[charsetStart..<j]
        // RFC 2231 section 5: charset*language
        if let star = charsetBytes.firstIndex(of: 0x2A) { charsetBytes = charsetBytes[charsetStart..<star] }
        let encoding = ASCII.lower(b[j + 1])
        guard encoding == 0x62 || encoding == 0x71 else { return nil }  // b, q
        let textStart = j + 3
        var k = textStart
        while k + 1 < n, k - textStart < maxWordLength {
            if b[k] == ASCII.question && b[k + 1] == ASCII.equals { break }
            if b[k] == ASCII.cr || b[k] == ASCII.lf { return nil }
            k += 1
        }
        guard k + 1 < n, b[k] == ASCII.question, b[k + 1] == ASCII.equals else { return nil }
        let text = b[textStart..<k]
        var bytes: [UInt8] = []
        if encoding == 0x62 {
            var decoder = Base64Decoder()
            decoder.decode(text, into: &bytes)
            decoder.finish(into: &bytes)
            if !decoder.problems.isEmpty { problems.record(.invalidEncodedWord) }
        } else {
            bytes.reserveCapacity(text.count)
            var p = text.startIndex
            while p < text.endIndex {
                let c = text[p]
                if c == 0x5F {
                    bytes.append(ASCII.space)
                } else if c == ASCII.equals, p + 2 < text.endIndex,
                          let hi = ASCII.hexValue(text[p + 1]), let lo = ASCII.hexValue(text[p + 2]) {
                    bytes.append(hi << 4 | lo)
                    p += 2
                } else {
                    if c == ASCII.equals { problems.record(.invalidEncodedWord) }
                    bytes.append(c)
                }
                p += 1
            }
        }
        return (Charset.utf8OrLatin1(charsetBytes), bytes, k + 2)
    }
}
