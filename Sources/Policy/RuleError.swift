/// A rule that does not compile: where, what and, for a misspelt name, the likely intended one.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name given to `RuleSet.compile`, e.g. "MailD.MilterRuleSet".
    public var ruleSetName: String
    /// Position of the rule in the rule set, 0-based (the description counts from 1).
    public var ruleIndex: Int
    /// 1-based character column in the rule text.
    public var column: Int
    /// The offending token as written, if there is one.
    public var token: String?
    public var message: String
    /// A known name close to a misspelt one.
    public var suggestion: String?

    public init(ruleSetName: String = "", ruleIndex: Int, column: Int, token: String?, message: String,
                suggestion: String? = nil) {
        self.ruleSetName = ruleSetName
        self.ruleIndex = ruleIndex
        self.column = column
        self.token = token
        self.message = message
        self.suggestion = suggestion
    }

    /// `column 17: unknown variable `threat_categry`; did you mean `threat_category`?`
    public var detail: String {
        var text = "column \(column): \(message)"
        if let suggestion { text += "; did you mean `\(suggestion)`?" }
        return text
    }

    /// `rule 2, column 17: unknown variable `threat_categry`; did you mean `threat_category`?`
    public var description: String { "rule \(ruleIndex + 1), \(detail)" }
}

/// An error inside one rule, before the rule set adds the rule's position.
struct RuleSyntaxError: Error, Sendable, Equatable {
    var column: Int
    var token: String?
    var message: String
    var suggestion: String?

    init(column: Int, token: String?, message: String, suggestion: String? = nil) {
        self.column = column
        self.token = token
        self.message = message
        self.suggestion = suggestion
    }

    init(at token: Token, _ message: String, suggestion: String? = nil) {
        self.init(column: token.column, token: token.kind == .end ? nil : token.text, message: message,
                  suggestion: suggestion)
    }
}
