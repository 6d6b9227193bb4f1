/// Finds the delimiter lines of one multipart body.
///
/// A delimiter line is `--boundary` at the start of a line, optionally followed by
/// `--` (close delimiter) and linear whitespace, then the end of the line (RFC 2046
/// 5.1.1). Requiring the line to end there is what keeps a nested boundary `abc` from
/// matching the outer `--abcd` line, and vice versa.
struct BoundaryScanner {
    struct Delimiter {
        /// Start of the line break before the line (or of the line, at the body start):
        /// RFC 2046 makes that line break part of the delimiter, not of the previous part.
        var start: Int
        /// First byte after the line and its line break.
        var end: Int
        var isClose: Bool
    }

    struct Result {
        /// Delimiters up to and including the first close delimiter.
        var delimiters: [Delimiter] = []
        var sawClose = false
        /// A delimiter line of the same boundary appears after the close delimiter.
        var delimiterAfterClose = false
    }

    static func scan(_ b: [UInt8], range: Range<Int>, boundary: [UInt8]) -> Result {
        var result = Result()
        let end = range.upperBound
        var p = range.lowerBound
        while p < end {
            if b[p] == ASCII.dash, let d = match(b, lineStart: p, rangeStart: range.lowerBound, end: end, boundary: boundary) {
                if result.sawClose {
                    result.delimiterAfterClose = true
                    return result
                }
                result.delimiters.append(d)
                if d.isClose { result.sawClose = true }
                p = d.end
                continue
            }
            while p < end && b[p] != ASCII.lf { p += 1 }
            p += 1
        }
        return result
    }

    private static func match(_ b: [UInt8], lineStart p: Int, rangeStart: Int, end: Int, boundary: [UInt8]) -> Delimiter? {
        guard p + 2 + boundary.count <= end, b[p + 1] == ASCII.dash else { return nil }
        var q = p + 2
        for c in boundary {
            if b[q] != c { return nil }
            q += 1
        }
        var isClose = false
        if q + 1 < end && b[q] == ASCII.dash && b[q + 1] == ASCII.dash {
            isClose = true
            q += 2
        }
        while q < end && ASCII.isWSP(b[q]) { q += 1 }
        let lineEnd: Int
        if q == end {
            lineEnd = end
        } else if b[q] == ASCII.lf {
            lineEnd = q + 1
        } else if b[q] == ASCII.cr && (q + 1 == end || b[q + 1] == ASCII.lf) {
            lineEnd = Swift.min(q + 2, end)
        } else {
            return nil
        }
        var start = p
        if p > rangeStart {
            start = p - 1  // the LF that ended the previous line
            if start > rangeStart && b[start - 1] == ASCII.cr { start -= 1 }
        }
        return Delimiter(start: start, end: lineEnd, isClose: isClose)
    }
}
