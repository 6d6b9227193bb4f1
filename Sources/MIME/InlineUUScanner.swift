#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds `begin NNN name` ... `end` uuencoded blocks embedded in a text body, as old
/// MUAs and Usenet gateways send attachments. Each block becomes a leaf part so
/// that it is scanned like any other attachment.
struct InlineUUScanner {
    struct Block {
        var range: Range<Int>
        var fileName: String
        var hasEnd: Bool
    }

    static func scan(_ b: [UInt8], range: Range<Int>, maxBlocks: Int) -> [Block] {
        var blocks: [Block] = []
        var p = range.lowerBound
        let end = range.upperBound
        while p < end && blocks.count < maxBlocks {
            let (lineEnd, next) = line(b, p, end)
            if b[p] == 0x62, let (_, name) = UUDecoder.parseBegin(b[p..<lineEnd]), next < end,
               looksLikeUULine(b, next, line(b, next, end).contentEnd) {
                let blockStart = p
                var q = next
                var found = false
                while q < end {
                    let (qEnd, qNext) = line(b, q, end)
                    var t = qEnd
                    while t > q && ASCII.isWSP(b[t - 1]) { t -= 1 }
                    let isEnd = HeaderParser.startsWith(b, q, t, "end") && t - q == 3
                    q = qNext
                    if isEnd {
                        found = true
                        break
                    }
                }
                blocks.append(Block(range: blockStart..<q, fileName: name, hasEnd: found))
                p = q
                continue
            }
            p = next
        }
        return blocks
    }

    /// (end of line content without CR/LF, start of next line)
    /// memchr to the LF: every line of every text body is walked here for `begin`.
    static func line(_ b: [UInt8], _ start: Int, _ end: Int) -> (contentEnd: Int, next: Int) {
        // Where the byte walk would have trapped (an end past the buffer), so does this: memchr
        // must not read past it.
        precondition(end <= b.count, "line end past the buffer")
        let lf = b.withUnsafeBufferPointer { buffer -> Int in
            guard start >= 0, start < end else { return start }
            guard let base = buffer.baseAddress, let hit = memchr(base + start, Int32(ASCII.lf), end - start) else { return end }
            return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
        }
        var contentEnd = lf
        if contentEnd > start && b[contentEnd - 1] == ASCII.cr { contentEnd -= 1 }
        return (contentEnd, lf < end ? lf + 1 : end)
    }

    /// A uuencoded data line: printable 0x20...0x60 only, length char consistent-ish.
    private static func looksLikeUULine(_ b: [UInt8], _ start: Int, _ end: Int) -> Bool {
        guard end > start else { return false }
        for i in start..<end where b[i] < 0x20 || b[i] > 0x60 { return false }
        let length = Int((b[start] &- 0x20) & 0x3F)
        let needed = (length + 2) / 3 * 4
        return end - start - 1 <= needed + 2 && (length == 0 || end - start - 1 >= needed - 4)
    }
}
