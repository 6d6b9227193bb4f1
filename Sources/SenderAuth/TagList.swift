// RFC 6376 §3.2 tag=value lists: the syntax of DKIM-Signature, the DKIM key record, ARC-Seal
// and ARC-Message-Signature (and, with the same shape, the DMARC record of RFC 7489 §6.4).
// Parsed from the raw bytes, folding included, so that a caller can find the exact bytes of a
// value again (the `b=` value a verifier must blank out before hashing the field).

/// A tag list that parsed: the tags in order, names unique.
public struct TagList: Sendable, Hashable {
    public struct Tag: Sendable, Hashable {
        /// As written (tag names are case-sensitive, RFC 6376 §3.2).
        public var name: String
        /// The value with folding line breaks removed and surrounding white space trimmed.
        public var value: String
        /// Where the value is in the parsed bytes: from just after `=` up to (not including)
        /// the next `;` or the end, surrounding white space and folding included.
        public var rawValueRange: Range<Int>
    }

    public private(set) var tags: [Tag]

    public subscript(_ name: String) -> String? {
        tags.first { $0.name == name }?.value
    }

    public func tag(_ name: String) -> Tag? { tags.first { $0.name == name } }

    /// Bounds: a hostile header gets an error, not unbounded work. A 16384-bit RSA key in
    /// base64 is under 3 KB, a DKIM-Signature with a long `z=` a few KB.
    public static let maxLength = 64 * 1024
    public static let maxTags = 64

    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case tooLong
        case tooManyTags
        case duplicate(String)
        case syntax(at: Int, String)

        public var description: String {
            switch self {
            case .tooLong: "tag list longer than \(TagList.maxLength) bytes"
            case .tooManyTags: "more than \(TagList.maxTags) tags"
            case .duplicate(let name): "tag \(name)= appears twice"
            case .syntax(let at, let what): "tag list syntax at byte \(at): \(what)"
            }
        }
    }

    /// Parses `bytes` (indices are kept: `rawValueRange` is in `bytes`' own indices).
    /// Empty tag-specs (`a=1;;b=2`, a trailing `;`) are tolerated, as deployed signers write them.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(Failure) -> TagList {
        guard bytes.count <= maxLength else { throw .tooLong }
        var tags: [Tag] = []
        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            i = skipFWS(bytes, i)
            if i == end { break }
            if bytes[i] == UInt8(ascii: ";") { i += 1; continue }
            // tag-name = ALPHA *ALNUMPUNC
            let nameStart = i
            guard isAlpha(bytes[i]) else { throw .syntax(at: i - bytes.startIndex, "tag name expected") }
            while i < end, isAlpha(bytes[i]) || isDigit(bytes[i]) || bytes[i] == UInt8(ascii: "_") { i += 1 }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
            i = skipFWS(bytes, i)
            guard i < end, bytes[i] == UInt8(ascii: "=") else {
                throw .syntax(at: i - bytes.startIndex, "'=' expected after \(name)")
            }
            i += 1
            let valueStart = i
            var value: [UInt8] = []
            var pendingSpace = false
            while i < end, bytes[i] != UInt8(ascii: ";") {
                let c = bytes[i]
                if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A {
                    if c == 0x0A || c == 0x0D {
                        // A line break is only allowed as folding: followed by WSP.
                        var j = i
                        if bytes[j] == 0x0D { j += 1 }
                        if j < end, bytes[j] == 0x0A { j += 1 }
                        guard j < end, bytes[j] == 0x20 || bytes[j] == 0x09 else {
                            // A final line break ends the list (a field's terminating CRLF).
                            if j == end { i = j; break }
                            throw .syntax(at: i - bytes.startIndex, "line break without folding")
                        }
                        i = j
                    } else {
                        i += 1
                    }
                    if !value.isEmpty { pendingSpace = true }
                    continue
                }
                // VALCHAR is %x21-3A / %x3C-7E; bytes above 0x7F are UTF-8 (RFC 8616), kept.
                guard c > 0x20, c != 0x7F else { throw .syntax(at: i - bytes.startIndex, "control byte in value of \(name)") }
                if pendingSpace { value.append(0x20); pendingSpace = false }
                value.append(c)
                i += 1
            }
            var rawEnd = i
            // The terminating line break of a field is not part of the last value.
            while rawEnd > valueStart, bytes[rawEnd - 1] == 0x0A || bytes[rawEnd - 1] == 0x0D { rawEnd -= 1 }
            if tags.contains(where: { $0.name == name }) { throw .duplicate(name) }
            guard tags.count < maxTags else { throw .tooManyTags }
            tags.append(Tag(name: name, value: String(decoding: value, as: UTF8.self), rawValueRange: valueStart..<rawEnd))
            if i < end { i += 1 }  // the ';'
        }
        return TagList(tags: tags)
    }

    public static func parse(_ text: String) throws(Failure) -> TagList {
        try parse(ArraySlice(Array(text.utf8)))
    }

    private static func skipFWS(_ b: ArraySlice<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < b.endIndex {
            let c = b[i]
            if c == 0x20 || c == 0x09 { i += 1; continue }
            if c == 0x0D || c == 0x0A {
                var j = i
                if b[j] == 0x0D { j += 1 }
                if j < b.endIndex, b[j] == 0x0A { j += 1 }
                if j == b.endIndex || b[j] == 0x20 || b[j] == 0x09 { i = j; continue }
            }
            break
        }
        return i
    }

    private static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
}

extension String {
    /// The value with every white space character removed: base64 values (`b=`, `bh=`, `p=`)
    /// may be folded anywhere.
    var withoutWhiteSpace: String {
        String(String.UnicodeScalarView(unicodeScalars.filter { $0 != " " && $0 != "\t" && $0 != "\r" && $0 != "\n" }))
    }
}
