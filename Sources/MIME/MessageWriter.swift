/// Re-emits a parsed message. Everything outside replaced parts is copied byte for
/// byte from the original, so an untouched tree gives back the exact input and a
/// replacement changes only the bytes of the part it names.
public enum MessageWriter {
    public static func emit(original: [UInt8], tree: Part, replacements: [PartPath: Replacement] = [:]) -> [UInt8] {
        var edits: [(range: Range<Int>, bytes: [UInt8])] = []
        if !replacements.isEmpty {
            collect(tree, original, replacements, &edits)
        }
        var out: [UInt8] = []
        out.reserveCapacity(original.count)
        var cursor = 0
        for edit in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            let lo = Swift.min(Swift.max(edit.range.lowerBound, cursor), original.count)
            let hi = Swift.min(Swift.max(edit.range.upperBound, lo), original.count)
            out += original[cursor..<lo]
            out += edit.bytes
            cursor = hi
        }
        out += original[cursor...]
        return out
    }

    /// A replaced part hides replacements of its descendants: edits never overlap.
    private static func collect(_ part: Part, _ original: [UInt8], _ replacements: [PartPath: Replacement],
                                _ edits: inout [(range: Range<Int>, bytes: [UInt8])]) {
        if let replacement = replacements[part.path] {
            edits.append(edit(for: part, replacement, original))
            return
        }
        for child in part.subparts { collect(child, original, replacements, &edits) }
    }

    private static func edit(for part: Part, _ replacement: Replacement, _ original: [UInt8]) -> (range: Range<Int>, bytes: [UInt8]) {
        let eol = lineEnding(of: part, in: original)
        switch replacement {
        case .remove:
            if let delimiter = part.delimiterRange {
                return (delimiter.lowerBound..<part.range.upperBound, [])
            }
            return (part.range, [])
        case .rawBody(let bytes):
            return (part.bodyRange, bytes)
        case .body(let content):
            let encoded: [UInt8]
            switch part.transferEncoding {
            case .base64: encoded = Base64Encoder.encode(content, lineEnding: eol)
            case .quotedPrintable: encoded = QuotedPrintableEncoder.encode(content, lineEnding: eol)
            case .uuencode: encoded = UUEncoder.encode(content, fileName: part.filename ?? "file", lineEnding: eol)
            default: encoded = content
            }
            return (part.bodyRange, encoded)
        case .rawEntity(let bytes):
            return (part.range, bytes)
        case .textPart(let text):
            let body = normalizeLineEndings(Array(text.utf8), eol)
            if part.kind == .uuencodedBlock {
                var block = body
                if !block.isEmpty && block.last != ASCII.lf { block += eol }
                return (part.range, block)
            }
            return (part.range, textEntity(keepingNonContentFieldsOf: part, body: body, eol: eol, original: original))
        }
    }

    private static func textEntity(keepingNonContentFieldsOf part: Part, body: [UInt8], eol: [UInt8], original: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        // Bytes before the first field (an mbox "From " line) stay.
        let firstField = part.headers.first?.range.lowerBound ?? part.headerRange.lowerBound
        if firstField > part.headerRange.lowerBound {
            out += original[part.headerRange.lowerBound..<Swift.min(firstField, original.count)]
        }
        for field in part.headers where !field.lowercasedName.hasPrefix("content-") {
            let r = field.range.clamped(to: 0..<original.count)
            out += original[r]
            if out.last != ASCII.lf { out += eol }
        }
        let ascii = body.allSatisfy { $0 < 0x80 }
        let encoding = ascii ? "7bit" : "base64"
        out += Array("Content-Type: text/plain; charset=utf-8".utf8) + eol
        out += Array("Content-Transfer-Encoding: \(encoding)".utf8) + eol
        out += eol
        out += ascii ? body : Base64Encoder.encode(body, lineEnding: eol)
        return out
    }

    /// The line ending the part already uses, so that a rewritten part matches its neighbours.
    static func lineEnding(of part: Part, in original: [UInt8]) -> [UInt8] {
        let r = part.range.clamped(to: 0..<original.count)
        if let lf = original[r].firstIndex(of: ASCII.lf) {
            return lf > r.lowerBound && original[lf - 1] == ASCII.cr ? [ASCII.cr, ASCII.lf] : [ASCII.lf]
        }
        return [ASCII.cr, ASCII.lf]
    }

    private static func normalizeLineEndings(_ text: [UInt8], _ eol: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == ASCII.cr && i + 1 < text.count && text[i + 1] == ASCII.lf {
                out += eol
                i += 2
            } else if c == ASCII.lf {
                out += eol
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }
}
