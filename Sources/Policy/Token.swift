/// One lexical element of a rule. Columns are 1-based character positions in the rule text.
struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A bare run of letters, digits and `_ . - / @ + %`: identifiers, keywords, numbers, values.
        case word(String)
        /// A double-quoted string, escapes already resolved.
        case string(String)
        case leftParen, rightParen, comma, colon
        /// `>`, `>=`, `<`, `<=`, `==`, `!=`, `=`.
        case symbol(String)
        case end
    }

    var kind: Kind
    var column: Int
    /// The token as written (quotes and escapes included), for error messages.
    var text: String

    var word: String? { if case .word(let w) = kind { w } else { nil } }

    /// A bare word compared case-insensitively with a keyword.
    func isWord(_ keyword: String) -> Bool {
        guard let w = word else { return false }
        return w.caseInsensitiveEquals(keyword)
    }

    /// How the token reads in an error message.
    var shown: String {
        switch kind {
        case .end: "the end of the rule"
        default: "`\(text)`"
        }
    }
}

extension StringProtocol {
    func caseInsensitiveEquals(_ other: some StringProtocol) -> Bool {
        lowercased() == other.lowercased()
    }
}
