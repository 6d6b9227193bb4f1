/// How a parameter's text is read, validated and written back.
public indirect enum ParameterType: Sendable {
    public enum BoolStyle: Sendable { case yesNo, onOff }

    case bool(BoolStyle)
    case integer(ClosedRange<Int>)
    /// A decimal number such as `5.0` (spam score thresholds); kept as text in its canonical
    /// spelling, read with `ConfigValue.decimal`.
    case decimal(ClosedRange<Double>)
    case duration(ClosedRange<ConfigDuration>)
    case size(ClosedRange<ByteSize>)
    case text
    /// An absolute path, or empty when `allowEmpty`.
    case path(allowEmpty: Bool)
    /// One of a fixed set of words, matched case-insensitively, written as spelled here.
    case choice([String])
    /// Two-letter language code (ISO 639-1).
    case languageCode
    case address
    case repackPassword
    case divert
    case logTarget
    /// Several values: from one line as a comma list (`"a", "b"`), from repeated lines, or
    /// (when `numbered`) from lines `Name0`, `Name1`, ... Rule lines contain commas of their
    /// own, so rule lists take one element per line and are never split.
    case list(ParameterType, splitsCommas: Bool)
    /// A RuleSet: one rule per line, checked by the Policy module's validator when one is given.
    case rules

    public var isList: Bool {
        switch self {
        case .list, .rules: return true
        default: return false
        }
    }

    var element: ParameterType {
        switch self {
        case .list(let element, _): return element
        case .rules: return .text
        default: return self
        }
    }

    var splitsCommas: Bool {
        if case .list(_, let split) = self { return split }
        return false
    }

    /// The form the administrator should write, for error messages and the reference.
    public var expectedForm: String {
        switch self {
        case .bool(.yesNo): return "Yes or No"
        case .bool(.onOff): return "On or Off"
        case .integer(let r): return "a whole number from \(r.lowerBound) to \(r.upperBound)"
        case .decimal(let r): return "a number from \(r.lowerBound) to \(r.upperBound), such as 5.0"
        case .duration(let r): return "\(ConfigDuration.expected), from \(r.lowerBound) to \(r.upperBound)"
        case .size(let r): return "\(ByteSize.expected), from \(r.lowerBound) to \(r.upperBound)"
        case .text: return "text"
        case .path(let allowEmpty): return allowEmpty ? "an absolute path, or empty" : "an absolute path"
        case .choice(let words): return "one of " + words.joined(separator: ", ")
        case .languageCode: return "a two-letter language code such as en, ru or de"
        case .address: return ListenAddress.expected + ", or empty to turn the interface off"
        case .repackPassword: return RepackPassword.expected
        case .divert: return DivertSetting.expected
        case .logTarget: return LogTarget.expected
        case .list(let element, _): return "a list of \(element.expectedForm), as \"a\", \"b\" or repeated lines"
        case .rules: return "rules `[condition, ...] : action, ...`, one per line (Name0, Name1, ... or repeated lines)"
        }
    }

    /// Parses the text of one line (a whole list when the type is a list).
    public func parse(_ raw: String) throws(ValueError) -> ConfigValue {
        switch self {
        case .list(let element, let splits):
            let items = splits ? try ValueText.splitList(raw) : [ValueText.unquote(raw)]
            var values: [ConfigValue] = []
            for item in items { values.append(try element.parseScalar(item)) }
            return .list(values)
        case .rules:
            let rule = raw.trimmingWhitespace()
            return .list(rule.isEmpty ? [] : [.text(rule)])
        default:
            return try parseScalar(ValueText.unquote(raw))
        }
    }

    func parseScalar(_ s: String) throws(ValueError) -> ConfigValue {
        switch self {
        case .bool(let style):
            switch s.lowercased() {
            case "yes", "on", "true": return .bool(true)
            case "no", "off", "false": return .bool(false)
            default: throw ValueError("`\(s)` is not a boolean", expected: ParameterType.bool(style).expectedForm)
            }
        case .integer(let range):
            guard let n = Int(s.trimmingWhitespace()) else {
                throw ValueError("`\(s)` is not a whole number", expected: expectedForm)
            }
            guard range.contains(n) else { throw ValueError("\(n) is out of range", expected: expectedForm) }
            return .integer(n)
        case .decimal(let range):
            let trimmed = s.trimmingWhitespace()
            guard let n = Double(trimmed), n.isFinite, trimmed.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" }) else {
                throw ValueError("`\(s)` is not a number", expected: expectedForm)
            }
            guard range.contains(n) else { throw ValueError("\(trimmed) is out of range", expected: expectedForm) }
            return .text(trimmed)
        case .duration(let range):
            let d = try ConfigDuration(parsing: s)
            guard range.contains(d) else { throw ValueError("\(d) is out of range", expected: expectedForm) }
            return .duration(d)
        case .size(let range):
            let size = try ByteSize(parsing: s)
            guard range.contains(size) else { throw ValueError("\(size) is out of range", expected: expectedForm) }
            return .size(size)
        case .text:
            return .text(s)
        case .path(let allowEmpty):
            if s.isEmpty, allowEmpty { return .text("") }
            guard s.hasPrefix("/") else { throw ValueError("`\(s)` is not an absolute path", expected: expectedForm) }
            return .text(s)
        case .choice(let words):
            guard let word = words.first(where: { $0.lowercased() == s.lowercased() }) else {
                let hint = Suggestion.closest(to: s, among: words)
                throw ValueError("`\(s)` is not a known value" + (hint.map { " (did you mean \($0)?)" } ?? ""),
                                 expected: expectedForm)
            }
            return .text(word)
        case .languageCode:
            let code = s.lowercased()
            guard code.count == 2, code.allSatisfy({ ("a"..."z").contains($0) }) else {
                throw ValueError("`\(s)` is not a language code", expected: expectedForm)
            }
            return .text(code)
        case .address:
            return .address(s.isEmpty ? nil : try ListenAddress(parsing: s))
        case .repackPassword:
            return .repackPassword(try RepackPassword(parsing: s))
        case .divert:
            return .divert(try DivertSetting(parsing: s))
        case .logTarget:
            return .text(try LogTarget(parsing: s).description)
        case .list, .rules:
            return try parse(s)
        }
    }

    /// The value as it is written in the file and shown by `cfshow`.
    public func format(_ value: ConfigValue) -> String {
        switch value {
        case .bool(let b):
            if case .bool(.onOff) = self { return b ? "On" : "Off" }
            return b ? "Yes" : "No"
        case .integer(let n): return String(n)
        case .duration(let d): return d.description
        case .size(let s): return s.description
        case .text(let s): return isList ? ValueText.quoteIfNeeded(s) : s
        case .address(let a): return a?.description ?? ""
        case .repackPassword(let p): return p.description
        case .divert(let d): return d.description
        case .list(let items):
            if case .rules = self { return items.compactMap(\.text).joined(separator: "\n") }
            return items.map { element.formatElement($0) }.joined(separator: ", ")
        }
    }

    private func formatElement(_ value: ConfigValue) -> String {
        if case .text(let s) = value { return ValueText.quoteIfNeeded(s) }
        return format(value)
    }
}
