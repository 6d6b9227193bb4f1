/// An INI file as lines, kept exactly as written so that edits touch only the lines they must.
///
/// Comments, blank lines, spacing, the order of sections and parameters and the line endings
/// (LF or CRLF) survive a read-edit-write cycle byte for byte.
public struct INIDocument: Sendable, Equatable {
    public enum LineKind: Sendable, Equatable {
        case blank
        case comment
        case section(name: String)
        case entry(key: String, value: String)
        /// Neither of the above; the loader reports it as a syntax error.
        case invalid
    }

    public struct Line: Sendable, Equatable {
        /// The line as in the file, without its `\n` (a CRLF file keeps the `\r`).
        public var raw: String
        public var kind: LineKind

        public init(raw: String) {
            self.raw = raw
            self.kind = Self.classify(raw)
        }

        static func classify(_ raw: String) -> LineKind {
            var text = raw.trimmingWhitespace()
            if text.hasPrefix("\u{FEFF}") { text = String(text.dropFirst()).trimmingWhitespace() }
            if text.isEmpty { return .blank }
            if text.hasPrefix("#") || text.hasPrefix(";") { return .comment }
            if text.hasPrefix("[") {
                guard text.hasSuffix("]") else { return .invalid }
                let name = String(text.dropFirst().dropLast()).trimmingWhitespace()
                return name.isEmpty ? .invalid : .section(name: name)
            }
            guard let eq = text.firstIndex(of: "=") else { return .invalid }
            let key = String(text[..<eq]).trimmingWhitespace()
            guard !key.isEmpty, !key.contains(" "), !key.contains("\t") else { return .invalid }
            let value = String(text[text.index(after: eq)...])
            return .entry(key: key, value: stripTrailingComment(value).trimmingWhitespace())
        }

        /// `Value   ; why` keeps only `Value`. A comment mark counts only after whitespace and
        /// outside quotes and parentheses, so `Plain(a;b)`, `"#1"` and regexes stay whole.
        static func stripTrailingComment(_ value: String) -> String {
            var inQuotes = false
            var depth = 0
            var previous: Character = " "
            var escaped = false
            for index in value.indices {
                let c = value[index]
                defer { previous = c }
                if escaped { escaped = false; continue }
                if inQuotes {
                    if c == "\\" { escaped = true } else if c == "\"" { inQuotes = false }
                    continue
                }
                switch c {
                case "\"": inQuotes = true
                case "(": depth += 1
                case ")": depth = max(0, depth - 1)
                case "#", ";":
                    if depth == 0, previous == " " || previous == "\t" { return String(value[..<index]) }
                default: break
                }
            }
            return value
        }
    }

    public var lines: [Line]

    public init(text: String) {
        // Splitting on "\n" alone and joining with "\n" restores the text exactly, whatever the
        // endings; the final empty element stands for a trailing newline. Split on scalars:
        // as Characters, "\r\n" is one grapheme and would not match "\n".
        lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { Line(raw: String(String.UnicodeScalarView($0))) }
    }

    public var text: String { lines.map(\.raw).joined(separator: "\n") }

    /// The ending new lines should use: CRLF when the file mostly uses it.
    var usesCRLF: Bool {
        let crlf = lines.filter { $0.raw.hasSuffix("\r") }.count
        return crlf * 2 > lines.count
    }

    /// The section each line belongs to (nil before the first header).
    func sectionOfEachLine() -> [String?] {
        var current: String?
        return lines.map { line in
            if case .section(let name) = line.kind { current = name }
            return current
        }
    }
}
