// Tokens of an IMAP line segment (the text between literals), plus the two small parsers the
// relay needs on top of them: the FETCH item tracker and the CAPABILITY filter.

/// One token of a line segment. Atoms include numbers, `NIL`, flags (`\Seen`) and fetch item
/// names with their section and origin (`BODY[HEADER.FIELDS (FROM TO)]<0>` is one atom).
public enum IMAPToken: Sendable, Equatable {
    case atom(String)
    case quoted([UInt8])
    case listOpen
    case listClose
}

public enum IMAPTokenizer {
    /// Tokenizes a segment's text (no line ending, no literal marker). Never fails: stray bytes
    /// become atoms and an unterminated quoted string ends at the end of the text.
    public static func tokenize(_ text: some Collection<UInt8>) -> [IMAPToken] {
        let bytes = Array(text)
        var tokens: [IMAPToken] = []
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                i += 1
            case UInt8(ascii: "("):
                tokens.append(.listOpen)
                i += 1
            case UInt8(ascii: ")"):
                tokens.append(.listClose)
                i += 1
            case UInt8(ascii: "\""):
                var value: [UInt8] = []
                i += 1
                while i < bytes.count {
                    let c = bytes[i]
                    if c == UInt8(ascii: "\\"), i + 1 < bytes.count {
                        value.append(bytes[i + 1])
                        i += 2
                        continue
                    }
                    i += 1
                    if c == UInt8(ascii: "\"") { break }
                    value.append(c)
                }
                tokens.append(.quoted(value))
            default:
                var atom: [UInt8] = []
                var bracketDepth = 0
                while i < bytes.count {
                    let c = bytes[i]
                    if bracketDepth == 0 && (c == UInt8(ascii: " ") || c == UInt8(ascii: "(") || c == UInt8(ascii: ")")
                        || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\n")) {
                        break
                    }
                    if c == UInt8(ascii: "[") { bracketDepth += 1 }
                    if c == UInt8(ascii: "]") && bracketDepth > 0 { bracketDepth -= 1 }
                    atom.append(c)
                    i += 1
                }
                tokens.append(.atom(String(decoding: atom, as: UTF8.self)))
            }
        }
        return tokens
    }
}

/// What a literal inside a FETCH response holds, from the item name in front of it.
public enum IMAPFetchLiteralRole: Sendable, Equatable {
    /// FETCH items (RFC 9051, 3516, 7162, 8474, 8970 and Dovecot's and Gmail's own) whose
    /// strings never hold message content.
    static let knownWithoutContent: Set<String> = [
        "ENVELOPE", "BODYSTRUCTURE", "BODY", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "UID", "MODSEQ",
        "EMAILID", "THREADID", "SAVEDATE", "PREVIEW", "BINARY.SIZE", "X-GUID", "X-MAILBOX", "X-SAVEDATE",
        "X-REAL-UID", "X-GM-MSGID", "X-GM-THRID", "X-GM-LABELS", "ANNOTATION",
    ]

    /// `BODY[]`, `RFC822`, `BINARY[]`: the whole message; held and scanned.
    case wholeMessage(item: String)
    /// Header-only items (`BODY[HEADER]`, `BODY[1.MIME]`, `RFC822.HEADER`, `BODY[HEADER.FIELDS (..)]`).
    case header(item: String)
    /// Partial or per-part content (`BODY[1]`, `BODY[TEXT]`, `BODY[]<0>`, `RFC822.TEXT`, `BINARY[2]`).
    case partialContent(item: String)
    /// Items that never carry message content (strings inside ENVELOPE or BODYSTRUCTURE, FLAGS,
    /// a PREVIEW snippet, ...).
    case other

    public static func classify(item: String) -> IMAPFetchLiteralRole {
        let name = item.uppercased()
        switch name {
        case "RFC822", "BODY[]", "BODY.PEEK[]", "BINARY[]", "BINARY.PEEK[]":
            return .wholeMessage(item: item)
        case "RFC822.HEADER":
            return .header(item: item)
        case "RFC822.TEXT":
            return .partialContent(item: item)
        default:
            break
        }
        let isBody = name.hasPrefix("BODY[") || name.hasPrefix("BODY.PEEK[")
        let isBinary = name.hasPrefix("BINARY[") || name.hasPrefix("BINARY.PEEK[")
        guard isBody || isBinary, let open = name.firstIndex(of: "["), let close = name.lastIndex(of: "]") else {
            // A literal under a name the Gate does not know could be content (an extension, a
            // server's own item): it is decided like a partial fetch, never streamed as harmless.
            return knownWithoutContent.contains(name) ? .other : .partialContent(item: item)
        }
        let section = name[name.index(after: open)..<close]
        let spec = section.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        if !spec.isEmpty,
           spec.hasSuffix("HEADER") || spec.hasSuffix("HEADER.FIELDS") || spec.hasSuffix("HEADER.FIELDS.NOT") || spec.hasSuffix("MIME") {
            return .header(item: item)
        }
        return .partialContent(item: item)
    }
}

/// Follows the msg-att list of one `* n FETCH (...)` response across its segments, to know which
/// item a literal belongs to and to pick up the UID wherever it appears.
struct IMAPFetchTracker: Sendable, Equatable {
    private(set) var sequence: UInt32?
    private(set) var uid: UInt32?
    private var depth = 0
    private var expectingName = true
    private var lastName = ""
    private var prefixSeen = 0  // "*", number, "FETCH"

    /// Consumes the tokens of one segment. When the segment ends with a literal, returns its role.
    mutating func consume(_ tokens: [IMAPToken], endsWithLiteral: Bool) -> IMAPFetchLiteralRole? {
        for token in tokens {
            if prefixSeen < 3 {
                if prefixSeen == 1, case .atom(let n) = token { sequence = UInt32(n) }
                prefixSeen += 1
                continue
            }
            switch token {
            case .listOpen:
                depth += 1
            case .listClose:
                if depth > 0 { depth -= 1 }
                if depth == 1 { expectingName = true }
            case .atom(let text):
                guard depth == 1 else { continue }
                if expectingName {
                    lastName = text
                    expectingName = false
                } else {
                    if lastName.uppercased() == "UID", let value = UInt32(text) { uid = value }
                    expectingName = true
                }
            case .quoted:
                if depth == 1 { expectingName = true }
            }
        }
        guard endsWithLiteral else { return nil }
        if depth == 1 && !expectingName {
            expectingName = true
            return IMAPFetchLiteralRole.classify(item: lastName)
        }
        return .other
    }
}

/// Removes `COMPRESS=...` from capability lists: the relay cannot parse a compressed stream.
public enum IMAPCapabilityFilter {
    /// Returns the line without the capabilities whose traffic the Gate cannot scan (COMPRESS: a
    /// deflated stream; URLAUTH: URLFETCH returns message content outside FETCH), or nil if
    /// nothing had to change. Handles
    /// `* CAPABILITY ...` and `[CAPABILITY ...]` response codes in OK/NO/BAD/PREAUTH/BYE lines
    /// (greeting, tagged OK after LOGIN/AUTHENTICATE).
    public static func strip(line: [UInt8]) -> [UInt8]? {
        let upper = line.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }
        let words = Self.words(upper)
        var rangeStart: Int
        var rangeEnd: Int
        if words.count >= 2, words[0].text == Array("*".utf8), words[1].text == Array("CAPABILITY".utf8) {
            rangeStart = words[1].end
            rangeEnd = line.count
        } else if let code = find(Array("[CAPABILITY".utf8), in: upper) {
            rangeStart = code + "[CAPABILITY".utf8.count
            guard let close = upper[rangeStart...].firstIndex(of: UInt8(ascii: "]")) else { return nil }
            rangeEnd = close
        } else {
            return nil
        }
        var out = Array(line[0..<rangeStart])
        var changed = false
        var i = rangeStart
        while i < rangeEnd {
            // copy separators, then a word
            if line[i] == UInt8(ascii: " ") || line[i] == UInt8(ascii: "\r") || line[i] == UInt8(ascii: "\n") {
                out.append(line[i])
                i += 1
                continue
            }
            var j = i
            while j < rangeEnd, line[j] != UInt8(ascii: " "), line[j] != UInt8(ascii: "\r"), line[j] != UInt8(ascii: "\n") { j += 1 }
            if upper[i..<j].starts(with: Array("COMPRESS=".utf8)) || upper[i..<j].elementsEqual("URLAUTH".utf8)
                || upper[i..<j].starts(with: Array("URLAUTH=".utf8)) {
                changed = true
                // drop the word and the space before it
                if out.last == UInt8(ascii: " ") { out.removeLast() }
            } else {
                out.append(contentsOf: line[i..<j])
            }
            i = j
        }
        out.append(contentsOf: line[rangeEnd...])
        return changed ? out : nil
    }

    private static func words(_ bytes: [UInt8]) -> [(text: [UInt8], end: Int)] {
        var result: [(text: [UInt8], end: Int)] = []
        var i = 0
        while i < bytes.count && result.count < 2 {
            while i < bytes.count && bytes[i] == UInt8(ascii: " ") { i += 1 }
            var j = i
            while j < bytes.count && bytes[j] != UInt8(ascii: " ") && bytes[j] != UInt8(ascii: "\r") && bytes[j] != UInt8(ascii: "\n") { j += 1 }
            if j > i { result.append((Array(bytes[i..<j]), j)) }
            if j == i { break }
            i = j
        }
        return result
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}
