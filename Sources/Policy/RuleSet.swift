import Foundation

/// The rule language: `[condition[, condition ...]] : action[, action ...]`.
public enum RuleSet {
    /// Reads files named in `in file("...")` from the file system.
    public static let fileSystemReader: RuleFileReader = { path in
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// Compiles the rules in order; the first rule that does not compile stops it.
    public static func compile(_ rules: [String], name: String, kind: RuleSetKind = .mail,
                               readFile: @escaping RuleFileReader = fileSystemReader) throws(RuleError) -> CompiledRuleSet {
        var compiled: [CompiledRule] = []
        for (index, rule) in rules.enumerated() {
            do throws(RuleSyntaxError) {
                compiled.append(try Parser.parse(rule, kind: kind, readFile: readFile))
            } catch {
                throw RuleError(ruleSetName: name, ruleIndex: index, column: error.column, token: error.token,
                                message: error.message, suggestion: error.suggestion)
            }
        }
        return CompiledRuleSet(name: name, kind: kind, rules: compiled)
    }

    /// Checks one rule; nil when it compiles.
    public static func check(_ rule: String, kind: RuleSetKind = .mail,
                             readFile: @escaping RuleFileReader = fileSystemReader) -> RuleError? {
        do {
            _ = try compile([rule], name: "", kind: kind, readFile: readFile)
            return nil
        } catch {
            return error
        }
    }
}
