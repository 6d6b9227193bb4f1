// Which client commands need the private fetch, and how its message set is written.

extension IMAPPrivateFetch.Request {
    /// The request of a `FETCH`/`UID FETCH` asking for partial content. Nil for anything else.
    /// `assumePartial`: the command goes on after a literal (`{4+}` inside HEADER.FIELDS, say),
    /// so its items cannot all be seen here: it is taken to ask for partial content.
    init?(fetchCommand text: [UInt8], assumePartial: Bool = false) {
        let tokens = IMAPTokenizer.tokenize(text)
        var words: [String] = []
        for token in tokens.prefix(4) {
            guard case .atom(let a) = token else { break }
            words.append(a)
        }
        guard words.count >= 3 else { return nil }
        var uid = false
        var setIndex = 2
        switch words[1].uppercased() {
        case "FETCH": break
        case "UID":
            guard words[2].uppercased() == "FETCH", words.count >= 4 else { return nil }
            uid = true
            setIndex = 3
        default: return nil
        }
        let set = words[setIndex]
        guard !set.isEmpty, set.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ",")
            || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "$") }) else { return nil }
        // The items: one atom, or the first parenthesised list after the set.
        var items: [String] = []
        var depth = 0
        for token in tokens.dropFirst(setIndex + 1) {
            switch token {
            case .listOpen:
                depth += 1
            case .listClose:
                depth -= 1
            case .atom(let a):
                if depth <= 1 { items.append(a) }
            case .quoted:
                break
            }
            if depth == 0 { break }
        }
        let partial = assumePartial || items.contains {
            if case .partialContent = IMAPFetchLiteralRole.classify(item: $0) { return true }
            return false
        }
        guard partial else { return nil }
        self.init(uid: uid, set: set)
    }
}

extension IMAPPrivateFetch {
    /// `[1, 2, 3, 7]` → `1:3,7`.
    static func compress(_ numbers: [UInt32]) -> String {
        var parts: [String] = []
        var index = 0
        while index < numbers.count {
            var end = index
            while end + 1 < numbers.count, numbers[end + 1] == numbers[end] + 1 { end += 1 }
            parts.append(end == index ? "\(numbers[index])" : "\(numbers[index]):\(numbers[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }
}
