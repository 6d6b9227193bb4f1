import MoatConfig

extension RuleSetKind {
    /// The kind of rule set a configuration parameter holds.
    public init(for key: ParameterKey) {
        self = key.section.caseInsensitiveEquals("LinuxFirewall") ? .firewall : .mail
    }
}

/// For `ConfigLoader(ruleValidator: ruleValidator)`: a rule that does not compile makes the
/// file (or `cfset`, or a reload) fail with the column and the reason.
public let ruleValidator: RuleValidator = { key, rule in
    guard let error = RuleSet.check(rule, kind: RuleSetKind(for: key)) else { return nil }
    return ValueError("rule `\(rule)` does not compile: \(error.detail)",
                      expected: "a rule `[condition, ...] : action, ...`, e.g. "
                          + "`threat_category in (KnownVirus) : REJECT \"text\"` (variables: Sources/Policy/VARIABLES.md)")
}
