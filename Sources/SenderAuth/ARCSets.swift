// RFC 8617 §4: the ARC header fields of a message grouped into sets by instance.

enum ARCLimits {
    /// RFC 8617 §4.2.1: instances run from 1 to 50.
    static let maxInstance = 50
    /// Each seal covers every set before it, so verifying costs up to 50 × 51 / 2 set copies:
    /// a field longer than this (real ones are well under 4 KB) fails the chain instead.
    static let maxFieldBytes = 16 * 1024
}

/// One ARC set: the three fields of one instance.
struct ARCSet: Sendable {
    var instance: Int
    var results: RawField
    var messageSignature: RawField
    var seal: RawField
}

struct ARCSets: Sendable {
    /// Sets 1...N in order.
    var sets: [ARCSet]

    enum Outcome {
        case none
        case sets(ARCSets)
        /// The fields do not form sets 1...N (RFC 8617 §5.2 step 2-3): the chain fails.
        case broken(String)
    }

    static func collect(_ fields: MessageFields) -> Outcome {
        var seals: [Int: RawField] = [:], signatures: [Int: RawField] = [:], results: [Int: RawField] = [:]
        var count = 0
        for f in fields.fields {
            let kind: Int
            switch f.name {
            case "arc-seal": kind = 0
            case "arc-message-signature": kind = 1
            case "arc-authentication-results": kind = 2
            default: continue
            }
            count += 1
            guard count <= 3 * ARCLimits.maxInstance else { return .broken("more than \(ARCLimits.maxInstance) ARC sets") }
            guard f.range.count <= ARCLimits.maxFieldBytes else { return .broken("an ARC field longer than \(ARCLimits.maxFieldBytes) bytes") }
            guard let i = instance(of: f, in: fields, tagged: kind < 2) else { return .broken("ARC field without a valid i=") }
            switch kind {
            case 0: if seals.updateValue(f, forKey: i) != nil { return .broken("two ARC-Seal fields with i=\(i)") }
            case 1: if signatures.updateValue(f, forKey: i) != nil { return .broken("two ARC-Message-Signature fields with i=\(i)") }
            default: if results.updateValue(f, forKey: i) != nil { return .broken("two ARC-Authentication-Results fields with i=\(i)") }
            }
        }
        if count == 0 { return .none }
        let n = max(seals.keys.max() ?? 0, signatures.keys.max() ?? 0, results.keys.max() ?? 0)
        var sets: [ARCSet] = []
        for i in 1...n {
            guard let s = seals[i], let m = signatures[i], let r = results[i] else { return .broken("ARC set \(i) is incomplete") }
            sets.append(ARCSet(instance: i, results: r, messageSignature: m, seal: s))
        }
        return .sets(ARCSets(sets: sets))
    }

    /// `i=` of a seal or message signature (a tag list), or of the results field, whose value
    /// starts with `i=N;` followed by RFC 8601 text (not a tag list).
    private static func instance(of field: RawField, in fields: MessageFields, tagged: Bool) -> Int? {
        let value = fields.value(of: field)
        let text: String
        if tagged {
            guard let tags = try? TagList.parse(value), let i = tags["i"] else { return nil }
            text = i
        } else {
            var j = value.startIndex
            func skipWhiteSpace() {
                while j < value.endIndex, [0x20, 0x09, 0x0D, 0x0A].contains(value[j]) { j += 1 }
            }
            func expect(_ c: Character) -> Bool {
                skipWhiteSpace()
                guard j < value.endIndex, value[j] == c.asciiValue else { return false }
                j += 1
                return true
            }
            guard expect("i"), expect("=") else { return nil }
            skipWhiteSpace()
            let start = j
            while j < value.endIndex, j - start < 3, value[j] >= 0x30, value[j] <= 0x39 { j += 1 }
            let digits = value[start..<j]
            guard expect(";") else { return nil }
            text = String(decoding: digits, as: UTF8.self)
        }
        guard text.count <= 2, let i = Int(text), (1...ARCLimits.maxInstance).contains(i) else { return nil }
        return i
    }
}
