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
            return .entry(key: key, value: String(text[text.index(after: eq)...]).trimmingWhitespace())
        }
    }

    public var lines: [Line]

    public init(text: String) {
        // Splitting on "\n" alone and joining with "\n" restores the text exactly, whatever the
        // endings; the final empty element stands for a trailing newline.
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Line(raw: String($0)) }
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
