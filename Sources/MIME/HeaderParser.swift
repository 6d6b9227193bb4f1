/// Splits the header block of one entity into fields and finds where the body starts.
struct HeaderParser {
    struct Result {
        var fields: [HeaderField] = []
        var bodyStart: Int
        var problems: [MIMEProblem] = []
    }

    /// Parses the header block at the start of `range`.
    ///
    /// The block ends at the first empty line. A line that is neither a field nor a
    /// continuation also ends it (the body starts on that line, as Python's email and
    /// most MUAs do) and `missingHeaderBodySeparator` is recorded. `allowMboxFromLine`
    /// accepts a leading `From ` envelope line as part of the header block.
    static func parse(_ bytes: [UInt8], range: Range<Int>, limits: MIMELimits, allowMboxFromLine: Bool) -> Result {
        var result = Result(bodyStart: range.upperBound)
        let end = range.upperBound
        var i = range.lowerBound
        var stored = 0
        var storing = true
        // Field being accumulated: start, value start, end of its last line's content, end incl. EOL.
        var current: (start: Int, colon: Int, contentEnd: Int, end: Int)? = nil

        func close(_ current: inout (start: Int, colon: Int, contentEnd: Int, end: Int)?, _ result: inout Result) {
            guard let f = current else { return }
            current = nil
            guard storing else { return }
            stored += f.end - f.start
            if stored > limits.maxHeaderBlockSize {
                storing = false
                result.problems.record(.headerBlockTooLarge)
                return
            }
            var nameEnd = f.colon
            while nameEnd > f.start && ASCII.isWSP(bytes[nameEnd - 1]) { nameEnd -= 1 }
            let raw = Array(bytes[(f.colon + 1)..<f.contentEnd])
            // Most fields are one line: their value is unfolded as it is.
            let folded = raw.contains { $0 == ASCII.cr || $0 == ASCII.lf }
            let unfolded = folded ? raw.filter { $0 != ASCII.cr && $0 != ASCII.lf } : raw
            let value = EncodedWord.decode(ASCII.trimmed(unfolded[...]), problems: &result.problems)
            result.fields.append(HeaderField(
                name: Charset.utf8OrLatin1(bytes[f.start..<nameEnd]),
                rawValue: raw,
                value: value,
                range: f.start..<f.end))
        }

        while i < end {
            let lineStart = i
            var lf = i
            while lf < end && bytes[lf] != ASCII.lf { lf += 1 }
            let next = lf < end ? lf + 1 : end
            var contentEnd = lf
            if lf < end && contentEnd > lineStart && bytes[contentEnd - 1] == ASCII.cr { contentEnd -= 1 }
            if contentEnd - lineStart > limits.maxHeaderLineLength { result.problems.record(.headerLineTooLong) }

            if contentEnd == lineStart && lf < end {
                // The empty separator line belongs to the header range.
                close(&current, &result)
                result.bodyStart = next
                return result
            }
            if ASCII.isWSP(bytes[lineStart]) {
                if current != nil {
                    current?.contentEnd = contentEnd
                    current?.end = next
                } else {
                    result.problems.record(.malformedHeader)
                }
                i = next
                continue
            }
            if let colon = fieldColon(bytes, lineStart, contentEnd) {
                close(&current, &result)
                current = (lineStart, colon, contentEnd, next)
                i = next
                continue
            }
            if allowMboxFromLine && lineStart == range.lowerBound && startsWith(bytes, lineStart, end, "From ") {
                i = next
                continue
            }
            // Not a header line: the body starts here.
            close(&current, &result)
            result.problems.record(.missingHeaderBodySeparator)
            result.bodyStart = lineStart
            return result
        }
        // End of input inside the header block: a header-only entity (legal, no problem).
        close(&current, &result)
        result.bodyStart = end
        return result
    }

    /// Index of the colon if the line is `name [WSP] : ...` with a valid field name.
    private static func fieldColon(_ b: [UInt8], _ start: Int, _ end: Int) -> Int? {
        var j = start
        while j < end {
            let c = b[j]
            if c == ASCII.colon { return j > start ? j : nil }
            if c <= 0x20 || c >= 0x7F { break }
            j += 1
        }
        // Obsolete syntax (RFC 5322 4.5): whitespace between name and colon.
        guard j > start else { return nil }
        var k = j
        while k < end && ASCII.isWSP(b[k]) { k += 1 }
        return (k > j && k < end && b[k] == ASCII.colon) ? k : nil
    }

    static func startsWith(_ b: [UInt8], _ at: Int, _ end: Int, _ prefix: String) -> Bool {
        var j = at
        for p in prefix.utf8 {
            guard j < end, b[j] == p else { return false }
            j += 1
        }
        return true
    }
}
