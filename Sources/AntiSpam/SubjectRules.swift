import Foundation

/// Subjects written to shout or to slip past word filters.
struct SubjectRules: SpamRule {
    func evaluate(_ m: AnalysedMessage, now: Date, into symbols: inout [SpamSymbol]) {
        let subject = m.subject
        if subject.trimmingWhitespace().isEmpty {
            symbols.append(.init(name: "MISSING_SUBJECT", score: 0.5, description: "no or empty Subject"))
            return
        }
        var letters = 0, upper = 0
        for scalar in subject.unicodeScalars where Self.isAlphabetic(scalar) {
            letters += 1
            if Self.isUppercase(scalar) { upper += 1 }
        }
        if letters >= 12, Double(upper) >= 0.9 * Double(letters),
           subject.split(separator: " ").lazy.filter({ $0.contains { $0.isLetter } }).count >= 3 {
            symbols.append(.init(name: "SUBJ_ALL_CAPS", score: 1.0, description: "Subject in capitals"))
        }
        if Self.isObfuscated(subject) {
            symbols.append(.init(name: "SUBJ_OBFUSCATED", score: 1.5, description: "Subject words spelt to evade filters"))
        }
        if subject.containsASCII("!!") || subject.containsASCII("$$") || subject.containsASCII("???") {
            symbols.append(.init(name: "SUBJ_EXCESS_PUNCT", score: 0.5, description: "repeated ! $ ? in Subject"))
        }
    }

    /// `V-I-A-G-R-A`, `f.r.e.e`: four or more single letters joined by the same mark; or a
    /// word mixing Latin with Cyrillic or Greek letters (look-alike characters).
    static func isObfuscated(_ subject: String) -> Bool {
        for word in subject.split(separator: " ") {
            let chars = Array(word)
            if chars.count >= 7 {
                var run = 0
                var i = 0
                while i + 1 < chars.count {
                    if chars[i].isLetter, !chars[i + 1].isLetter, !chars[i + 1].isNumber, chars[i + 1] != "'",
                       i + 2 < chars.count, chars[i + 2].isLetter, i + 3 >= chars.count || !chars[i + 3].isLetter {
                        run += 1
                        if run >= 3 { return true }
                        i += 2
                    } else {
                        run = 0
                        i += 1
                    }
                }
            }
            var latin = false, other = false
            for s in word.unicodeScalars where Self.isAlphabetic(s) {
                if s.isASCII { latin = true }
                else if (0x0400...0x04FF).contains(s.value) || (0x0370...0x03FF).contains(s.value) { other = true }
            }
            if latin && other { return true }
        }
        return false
    }

    /// Unicode's Alphabetic and Uppercase properties, answered for ASCII without the property
    /// tables (most subjects are ASCII; the lookups were 1.5 % of moatd's instructions).
    static func isAlphabetic(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? (scalar.value | 0x20) >= 0x61 && (scalar.value | 0x20) <= 0x7A : scalar.properties.isAlphabetic
    }

    static func isUppercase(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? scalar.value >= 0x41 && scalar.value <= 0x5A : scalar.properties.isUppercase
    }
}
