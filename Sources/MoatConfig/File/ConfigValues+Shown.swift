import Foundation

extension ConfigValues {
    /// How `moat-ctl cfshow` and the console show one parameter: `Section.Param = value`, a
    /// rule set one rule a line; with `valueOnly`, the values without the name.
    public func shownLines(_ key: ParameterKey, valueOnly: Bool = false) -> [String] {
        guard let spec = schema.spec(key) else { return [] }
        let text = formatted(key)
        var parts = [text]
        if case .rules = spec.type { parts = text.isEmpty ? [""] : text.components(separatedBy: "\n") }
        return parts.map { part in
            if valueOnly { return part }
            return part.isEmpty ? "\(key) =" : "\(key) = \(part)"
        }
    }
}
