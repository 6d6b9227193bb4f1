/// The quoting rules of values: `"..."` with `\"` and `\\` escapes; commas separate list
/// items outside quotes and parentheses.
public enum ValueText {
    public static func unquote(_ raw: String) -> String {
        let s = raw.trimmingWhitespace()
        guard s.count >= 2, s.hasPrefix("\""), s.hasSuffix("\""), let inner = try? quoted(s) else { return s }
        return inner
    }

    /// Reads a whole string that is exactly one quoted token.
    private static func quoted(_ s: String) throws(ValueError) -> String? {
        var out = ""
        var chars = s.dropFirst().makeIterator()
        while let c = chars.next() {
            switch c {
            case "\\":
                guard let next = chars.next() else { return nil }
                out.append(next)
            case "\"":
                // A quote before the end means this was several tokens, e.g. `"a", "b"`.
                return chars.next() == nil ? out : nil
            default:
                out.append(c)
            }
        }
        return nil
    }

    static func splitList(_ raw: String) throws(ValueError) -> [String] {
        var items: [String] = []
        var current = ""
        var inQuotes = false
        var wasQuoted = false
        var depth = 0
        var escape = false
        func flush() {
            let item = wasQuoted ? current : current.trimmingWhitespace()
            if !(item.isEmpty && !wasQuoted) { items.append(item) }
            current = ""
            wasQuoted = false
        }
        for c in raw {
            if escape {
                current.append(c)
                escape = false
                continue
            }
            if inQuotes {
                switch c {
                case "\\": escape = true
                case "\"": inQuotes = false
                default: current.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                if !current.trimmingWhitespace().isEmpty {
                    throw ValueError("a quote starts in the middle of `\(current)`", expected: "\"a\", \"b\" or a, b")
                }
                current = ""
                inQuotes = true
                wasQuoted = true
            case "(": depth += 1; current.append(c)
            case ")": depth -= 1; current.append(c)
            case "," where depth <= 0: flush()
            default:
                if wasQuoted, c == " " || c == "\t" { continue }
                if wasQuoted {
                    throw ValueError("text `\(c)` follows a closing quote", expected: "\"a\", \"b\" or a, b")
                }
                current.append(c)
            }
        }
        if inQuotes { throw ValueError("a quote is not closed in `\(raw)`", expected: "\"a\", \"b\" or a, b") }
        flush()
        return items
    }

    static func quoteIfNeeded(_ s: String) -> String {
        let plain = !s.isEmpty && !s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\\" || $0 == "(" || $0 == ")" })
            && s.trimmingWhitespace() == s
        if plain { return s }
        return "\"" + s.replacingBackslashAndQuote() + "\""
    }
}

extension String {
    fileprivate func replacingBackslashAndQuote() -> String {
        var out = ""
        for c in self {
            if c == "\\" || c == "\"" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
