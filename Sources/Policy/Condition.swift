import Foundation

/// A value written in a rule, already checked against the variable's kind.
enum Literal: Sendable, Equatable {
    case text(String)  // lowercased: text compares case-insensitively
    case number(Double)
    case bool(Bool)
    case network(IPNetwork)
    case enumCase(String)  // canonical spelling

    func matches(_ value: FactValue) -> Bool {
        switch (self, value) {
        case (.text(let a), .text(let b)): a == b.lowercased()
        case (.number(let a), .number(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.network(let n), .ip(let address)): n.contains(address)
        case (.enumCase(let a), .enumCase(let b)): a == b
        default: false
        }
    }
}

/// Numeric comparison operators: `gt ge lt le eq ne` or `> >= < <= == !=`.
enum Comparison: String, Sendable, CaseIterable {
    case gt, ge, lt, le, eq, ne

    static let symbols: [String: Comparison] = [">": .gt, ">=": .ge, "<": .lt, "<=": .le, "==": .eq, "!=": .ne]

    func holds(_ a: Double, _ b: Double) -> Bool {
        switch self {
        case .gt: a > b
        case .ge: a >= b
        case .lt: a < b
        case .le: a <= b
        case .eq: a == b
        case .ne: a != b
        }
    }
}

/// A compiled regular expression. NSRegularExpression is immutable and thread-safe.
struct Pattern: @unchecked Sendable {
    let source: String
    let regex: NSRegularExpression

    /// How long one match may run before it is given up (catastrophic backtracking such as `(a+)+$`).
    static let timeLimit: Duration = .milliseconds(100)

    enum Outcome { case match, noMatch, gaveUp }

    func matches(_ text: String, limit: Int) -> Outcome {
        let subject = text.utf16.count > limit ? String(text.prefix(limit)) : text
        let range = NSRange(location: 0, length: subject.utf16.count)
        let clock = ContinuousClock()
        let deadline = clock.now + Self.timeLimit
        var outcome = Outcome.noMatch
        // With .reportProgress the block also runs now and then during a long match, to stop it.
        regex.enumerateMatches(in: subject, options: [.reportProgress], range: range) { result, _, stop in
            if result != nil {
                outcome = .match
                stop.pointee = true
            } else if clock.now > deadline {
                outcome = .gaveUp
                stop.pointee = true
            }
        }
        return outcome
    }
}

/// One condition of a rule: `[not] variable [not] test`.
struct Condition: Sendable {
    enum Test: Sendable {
        /// The variable alone: a yes/no variable is yes, a set is not empty.
        case present
        /// `variable value`, `variable in (...)`, `variable in file("...")`: any value is one of these.
        case oneOf([Literal])
        /// `variable gt 5`: any value compares true.
        case compare(Comparison, Double)
        /// `variable match "re"` or `match ("re", ...)`: any value matches any pattern (unanchored).
        case match([Pattern])
    }

    var variable: Variable
    var argument: String?
    var negated: Bool
    var test: Test
    var column: Int

    /// Whether the condition holds; a regular expression that runs too long counts as not
    /// matching and is noted in `gaveUp`.
    func holds(in state: EvaluationState, gaveUp: inout [String]) -> Bool {
        let values = variable.values(state, argument)
        let result: Bool
        switch test {
        case .present:
            if case .bool = variable.kind {
                result = values.contains(.bool(true))
            } else {
                result = !values.isEmpty
            }
        case .oneOf(let literals):
            result = values.contains { value in literals.contains { $0.matches(value) } }
        case .compare(let op, let number):
            result = values.contains { value in
                if case .number(let n) = value { return op.holds(n, number) }
                return false
            }
        case .match(let patterns):
            var found = false
            search: for value in values {
                guard case .text(let text) = value else { continue }
                for pattern in patterns {
                    switch pattern.matches(text, limit: variable.matchLimit) {
                    case .match: found = true; break search
                    case .noMatch: continue
                    case .gaveUp: gaveUp.append(pattern.source)
                    }
                }
            }
            result = found
        }
        return result != negated
    }
}
