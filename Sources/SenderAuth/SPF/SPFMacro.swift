/// A macro-string of RFC 7208 §7.1, parsed once with the record (a bad macro anywhere is a
/// syntax error of the whole record) and expanded per evaluation.
public struct SPFMacroString: Sendable, Hashable {
    public enum Item: Sendable, Hashable {
        case literal(String)
        /// `%{` letter [digits] [r] *delimiter `}`; an upper-case letter URL-escapes.
        case macro(letter: Character, keep: Int?, reverse: Bool, delimiters: [Character], escape: Bool)
    }

    public var items: [Item]
    /// Whether the string ends with a macro-expand (`%{...}`, `%%`, `%_`, `%-`), which is one
    /// of the two legal ends of a domain-spec (§7.1).
    public var endsWithMacro: Bool

    /// `explanation`: the letters `c`, `r`, `t` are allowed (only in `exp=` texts, §7.3), and
    /// so are spaces (explain-string = *( macro-string / SP )).
    public init(parsing text: Substring, explanation: Bool = false) throws(SPFSyntaxError) {
        var items: [Item] = []
        var literal = ""
        var endsWithMacro = false
        var index = text.startIndex
        func flush() {
            if !literal.isEmpty { items.append(.literal(literal)); literal = "" }
        }
        while index < text.endIndex {
            let char = text[index]
            index = text.index(after: index)
            guard char == "%" else {
                guard let ascii = char.asciiValue, ascii >= 0x21 && ascii <= 0x7e || explanation && ascii == 0x20 else {
                    throw SPFSyntaxError("character \(char.unicodeScalars.first.map { "U+\(String($0.value, radix: 16))" } ?? "?") not allowed in a macro-string")
                }
                literal.append(char)
                endsWithMacro = false
                continue
            }
            guard index < text.endIndex else { throw SPFSyntaxError("`%` at the end of a macro-string") }
            let next = text[index]
            index = text.index(after: index)
            endsWithMacro = true
            switch next {
            case "%": literal.append("%")
            case "_": literal.append(" ")
            case "-": literal.append("%20")
            case "{":
                guard let close = text[index...].firstIndex(of: "}") else { throw SPFSyntaxError("unterminated macro") }
                flush()
                items.append(try Self.macro(text[index..<close], explanation: explanation))
                index = text.index(after: close)
            default:
                throw SPFSyntaxError("`%\(next)` is not a macro")
            }
        }
        flush()
        self.items = items
        self.endsWithMacro = endsWithMacro
    }

    private static func macro(_ body: Substring, explanation: Bool) throws(SPFSyntaxError) -> Item {
        guard let letter = body.first else { throw SPFSyntaxError("empty macro") }
        let lower = Character(letter.lowercased())
        let allowed: Set<Character> = explanation ? ["s", "l", "o", "d", "i", "p", "h", "v", "c", "r", "t"]
                                                  : ["s", "l", "o", "d", "i", "p", "h", "v"]
        guard allowed.contains(lower) else { throw SPFSyntaxError("unknown macro letter `\(letter)`") }
        var rest = body.dropFirst()
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        rest = rest.dropFirst(digits.count)
        var keep: Int?
        if !digits.isEmpty {
            // Large values just keep every part; zero is not allowed (§7.3).
            let value = digits.count > 3 ? 999 : Int(digits)!
            guard value > 0 else { throw SPFSyntaxError("macro transformer 0") }
            keep = value
        }
        var reverse = false
        if rest.first == "r" || rest.first == "R" {
            reverse = true
            rest = rest.dropFirst()
        }
        let delimiterSet: Set<Character> = [".", "-", "+", ",", "/", "_", "="]
        guard rest.allSatisfy({ delimiterSet.contains($0) }) else {
            throw SPFSyntaxError("bad macro `%{\(body)}`")
        }
        return .macro(letter: lower, keep: keep, reverse: reverse, delimiters: Array(rest),
                      escape: letter != lower)
    }

    /// The values the letters expand to in one evaluation.
    public struct Values: Sendable {
        public var sender: String
        public var localPart: String
        public var senderDomain: String
        public var domain: String
        public var address: SPFAddress
        public var helo: String
        public var receiver: String
        public var timestamp: Int
        /// `%{p}`, computed only when a macro asks (it costs DNS queries).
        public var validatedName: (@Sendable () async -> String)?
    }

    public func expand(_ values: Values) async -> String {
        var out = ""
        for item in items {
            switch item {
            case .literal(let text):
                out += text
            case .macro(let letter, let keep, let reverse, let delimiters, let escape):
                let value: String
                switch letter {
                case "s": value = values.sender
                case "l": value = values.localPart
                case "o": value = values.senderDomain
                case "d": value = values.domain
                case "i": value = values.address.macroForm
                case "p": value = await values.validatedName?() ?? "unknown"
                case "v": value = values.address.versionWord
                case "h": value = values.helo
                case "c": value = values.address.description
                case "r": value = values.receiver
                default: value = String(values.timestamp)
                }
                let split = Self.transform(value, keep: keep, reverse: reverse, delimiters: delimiters)
                out += escape ? Self.urlEscaped(split) : split
            }
        }
        return out
    }

    static func transform(_ value: String, keep: Int?, reverse: Bool, delimiters: [Character]) -> String {
        let separators = delimiters.isEmpty ? ["."] : delimiters
        var parts = value.split(omittingEmptySubsequences: false, whereSeparator: { separators.contains($0) })
        if reverse { parts.reverse() }
        if let keep, keep < parts.count { parts = Array(parts.suffix(keep)) }
        return parts.joined(separator: ".")
    }

    /// RFC 3986 unreserved characters stay; every other byte becomes %XX.
    static func urlEscaped(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xf)])
            }
        }
        return out
    }
}

public struct SPFSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
