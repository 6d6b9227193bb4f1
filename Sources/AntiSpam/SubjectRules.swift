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
        // Most subjects are ASCII without a CR: a byte is then a Character, and a word cannot
        // mix scripts, so the words are read on the bytes (Character arrays of every word
        // were 1.5 % of moatd's instructions per Milter message).
        if let answer = subject.utf8.withContiguousStorageIfAvailable({ bytes -> Bool? in
            guard !bytes.contains(where: { $0 >= 0x80 || $0 == UInt8(ascii: "\r") }) else { return nil }
            return bytes.split(separator: UInt8(ascii: " ")).contains { word in
                hasSpacedLetters(word.count) { i -> (letter: Bool, number: Bool, apostrophe: Bool) in
                    let byte = word[word.startIndex + i]
                    return (ASCIIByte.isLetter(byte), byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"), byte == UInt8(ascii: "'"))
                }
            }
        }), let answer {
            return answer
        }
        for word in subject.split(separator: " ") {
            let chars = Array(word)
            if hasSpacedLetters(chars.count, { (chars[$0].isLetter, chars[$0].isNumber, chars[$0] == "'") }) { return true }
            var latin = false, other = false
            for s in word.unicodeScalars where Self.isAlphabetic(s) {
                if s.isASCII { latin = true }
                else if (0x0400...0x04FF).contains(s.value) || (0x0370...0x03FF).contains(s.value) { other = true }
            }
            if latin && other { return true }
        }
        return false
    }

    /// Whether a word of `count` characters, of which `kind` tells each one's class, has
    /// three letter-mark-letter steps in a row (`V-I-A-G`): only words of seven or more.
    private static func hasSpacedLetters(
        _ count: Int, _ kind: (Int) -> (letter: Bool, number: Bool, apostrophe: Bool)
    ) -> Bool {
        guard count >= 7 else { return false }
        var run = 0
        var i = 0
        while i + 1 < count {
            let next = kind(i + 1)
            if kind(i).letter, !next.letter, !next.number, !next.apostrophe,
               i + 2 < count, kind(i + 2).letter, i + 3 >= count || !kind(i + 3).letter {
                run += 1
                if run >= 3 { return true }
                i += 2
            } else {
                run = 0
                i += 1
            }
        }
        return false
    }

    /// Unicode's Alphabetic and Uppercase properties, answered for ASCII without the property
    /// tables (most subjects are ASCII; the lookups were 1.5 % of moatd's instructions).
    static func isAlphabetic(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? ASCIIByte.isLetter(UInt8(scalar.value)) : scalar.properties.isAlphabetic
    }

    static func isUppercase(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII ? scalar.value >= 0x41 && scalar.value <= 0x5A : scalar.properties.isUppercase
    }
}
