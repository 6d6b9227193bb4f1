/// One compiled rule.
struct CompiledRule: Sendable {
    var text: String
    var conditions: [Condition]
    var actions: [Action]
}

/// A rule set ready to run: compile once (configuration load), evaluate per message.
public struct CompiledRuleSet: Sendable {
    public let name: String
    public let kind: RuleSetKind
    let rules: [CompiledRule]

    public var count: Int { rules.count }
    public var ruleTexts: [String] { rules.map(\.text) }

    /// Runs the rules top to bottom until a final action; PASS when none is reached.
    public func evaluate(_ facts: MessageFacts) -> Verdict {
        var state = EvaluationState(facts: facts)
        var verdict = Verdict()
        for (index, rule) in rules.enumerated() {
            var gaveUp: [String] = []
            let holds = rule.conditions.allSatisfy { $0.holds(in: state, gaveUp: &gaveUp) }
            for source in gaveUp {
                verdict.notes.append("\(name) rule \(index + 1): regular expression `\(source)` ran longer than "
                                     + "\(Pattern.timeLimit) and was taken as not matching")
            }
            guard holds else { continue }
            for action in rule.actions {
                switch action {
                case .addHeader(let field):
                    verdict.headersToAdd.append(field)
                case .addAuthenticationResults:
                    verdict.addAuthenticationResults = true
                case .addTag(let tag):
                    state.tags.append(tag)
                    verdict.tags.append(tag)
                case .setUnwrapSsl(let on):
                    state.unwrapSslSet = on
                    verdict.unwrapSsl = on
                case .final(let final):
                    verdict.action = final
                    verdict.decidingRule = DecidingRule(ruleSetName: name, index: index, text: rule.text)
                    return verdict
                }
            }
        }
        return verdict
    }
}
