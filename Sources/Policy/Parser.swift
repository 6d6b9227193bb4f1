import Foundation
import MoatConfig

/// Reads a file named in `in file("...")`; the rule set compiler passes the real file system,
/// tests pass a table.
public typealias RuleFileReader = @Sendable (_ path: String) throws -> String

/// Turns the tokens of one rule into conditions and actions. The only I/O is through
/// `readFile`, for `in file("...")` lists, which are read when the rule compiles.
struct Parser {
    var tokens: [Token]
    var position = 0
    let kind: RuleSetKind
    let readFile: RuleFileReader
    /// Whether the rule has a `:`; without one it is actions only, or a mistake.
    let hasColon: Bool

    init(tokens: [Token], kind: RuleSetKind, readFile: @escaping RuleFileReader) {
        self.tokens = tokens
        self.kind = kind
        self.readFile = readFile
        self.hasColon = tokens.contains { $0.kind == .colon }
    }

    static func parse(_ rule: String, kind: RuleSetKind,
                      readFile: @escaping RuleFileReader) throws(RuleSyntaxError) -> CompiledRule {
        var parser = Parser(tokens: try Lexer.tokenize(rule), kind: kind, readFile: readFile)
        let (conditions, actions) = try parser.parseRule()
        return CompiledRule(text: rule, conditions: conditions, actions: actions)
    }

    // MARK: Token access

    var peek: Token { tokens[position] }

    @discardableResult
    mutating func advance() -> Token {
        let token = tokens[position]
        if token.kind != .end { position += 1 }
        return token
    }

    mutating func expect(_ kind: Token.Kind, _ message: @autoclosure () -> String) throws(RuleSyntaxError) {
        guard peek.kind == kind else { throw RuleSyntaxError(at: peek, message() + ", found \(peek.shown)") }
        advance()
    }

    // MARK: Rule

    mutating func parseRule() throws(RuleSyntaxError) -> ([Condition], [Action]) {
        guard peek.kind != .end else {
            throw RuleSyntaxError(column: 1, token: nil, message: "empty rule; write at least an action such as PASS")
        }
        var conditions: [Condition] = []
        if hasColon {
            if peek.kind != .colon {
                while true {
                    conditions.append(try parseCondition())
                    if peek.kind == .comma { advance(); continue }
                    if peek.kind == .colon { break }
                    throw RuleSyntaxError(at: peek, "expected `,` or `:` after the condition, found \(peek.shown)")
                }
            }
            advance()  // the colon
            return (conditions, try parseActions())
        }
        if startsWithAction() {
            return ([], try parseActions())
        }
        while true {
            conditions.append(try parseCondition())
            guard peek.kind == .comma else { break }
            advance()
        }
        let next = peek
        if next.kind == .end {
            throw RuleSyntaxError(at: next, "missing `:` and actions after the conditions")
        }
        if let word = next.word, Action.keyword(word) != nil {
            throw RuleSyntaxError(at: next, "missing `:` before the actions")
        }
        throw RuleSyntaxError(at: next, "expected `,` or `:` after the condition, found \(next.shown)")
    }

    /// Without a `:`, a rule is actions only; decide whether the first word was meant as one.
    func startsWithAction() -> Bool {
        guard let word = peek.word else { return true }
        if Action.keyword(word) != nil { return true }
        if Variable.named(word) != nil || word.caseInsensitiveEquals("not") { return false }
        switch tokens[position + 1].kind {
        case .end, .comma, .string, .leftParen: return true
        default: return false
        }
    }

    // MARK: Conditions

    mutating func parseCondition() throws(RuleSyntaxError) -> Condition {
        var negated = false
        if peek.isWord("not") {
            advance()
            negated = true
        }
        let nameToken = advance()
        guard let name = nameToken.word else {
            throw RuleSyntaxError(at: nameToken, "expected a variable, found \(nameToken.shown)")
        }
        guard let variable = Variable.named(name) else {
            if let action = Action.keyword(name) {
                throw RuleSyntaxError(at: nameToken, "`\(action)` is an action; actions go after the `:`")
            }
            throw RuleSyntaxError(at: nameToken, "unknown variable `\(name)`",
                                  suggestion: Suggestion.closest(to: name, among: Variable.allNames))
        }
        var argument: String?
        if variable.takesArgument {
            try expect(.leftParen, "`\(variable.name)` takes a name in parentheses, as in \(variable.name)(\"List-Id\")")
            let arg = advance()
            switch arg.kind {
            case .string(let s) where !s.isEmpty, .word(let s): argument = s
            default: throw RuleSyntaxError(at: arg, "expected a header name, found \(arg.shown)")
            }
            try expect(.rightParen, "expected `)` after the header name")
        }
        func make(_ test: Condition.Test) -> Condition {
            Condition(variable: variable, argument: argument, negated: negated, test: test, column: nameToken.column)
        }

        var op = peek
        switch op.kind {
        case .comma, .colon, .end:
            guard variable.isSet || isBool(variable) else {
                throw RuleSyntaxError(at: op, "`\(name)` needs a value or an operator (in, match, gt, ...) after it")
            }
            return make(.present)
        default: break
        }
        if !hasColon, let word = op.word, Action.keyword(word) != nil {
            throw RuleSyntaxError(at: op, "missing `:` before the actions")
        }
        if op.isWord("not") {
            advance()
            negated.toggle()
            op = peek
        }
        if op.isWord("in") {
            advance()
            return make(.oneOf(try parseInList(variable)))
        }
        if op.isWord("match") {
            advance()
            guard case .text = variable.kind else {
                throw RuleSyntaxError(at: op, "`match` needs a text variable; `\(name)` is \(variable.kind.name)")
            }
            return make(.match(try parsePatterns()))
        }
        if let comparison = comparisonOperator(op) {
            advance()
            guard case .number(let sizes) = variable.kind else {
                throw RuleSyntaxError(at: op, "`\(op.text)` compares numbers; `\(name)` is \(variable.kind.name)")
            }
            let valueToken = advance()
            guard let text = valueToken.word ?? stringValue(valueToken) else {
                throw RuleSyntaxError(at: valueToken, "expected a number after `\(op.text)`, found \(valueToken.shown)")
            }
            guard let number = Self.number(text, sizes: sizes) else {
                throw RuleSyntaxError(at: valueToken, "bad number `\(text)`")
            }
            return make(.compare(comparison, number))
        }
        if case .symbol(let s) = op.kind {
            throw RuleSyntaxError(at: op, s == "=" ? "`=` does not compare; write `==` or `eq`" : "unexpected `\(s)`")
        }
        switch op.kind {
        case .word(let text), .string(let text):
            advance()
            return make(.oneOf([try literal(text, for: variable, at: op)]))
        default:
            throw RuleSyntaxError(at: op, "expected a value or an operator after `\(name)`, found \(op.shown)")
        }
    }

    func isBool(_ variable: Variable) -> Bool {
        if case .bool = variable.kind { return true }
        return false
    }

    func comparisonOperator(_ token: Token) -> Comparison? {
        switch token.kind {
        case .word(let w): Comparison(rawValue: w.lowercased())
        case .symbol(let s): Comparison.symbols[s]
        default: nil
        }
    }

    func stringValue(_ token: Token) -> String? {
        if case .string(let s) = token.kind { return s }
        return nil
    }

    /// `(v1, v2, ...)` or `file("/path")` after `in`.
    mutating func parseInList(_ variable: Variable) throws(RuleSyntaxError) -> [Literal] {
        if peek.isWord("file") {
            advance()
            try expect(.leftParen, "expected `(` after `file`")
            let pathToken = advance()
            guard let path = stringValue(pathToken) ?? pathToken.word, !path.isEmpty else {
                throw RuleSyntaxError(at: pathToken, "expected a quoted file path, found \(pathToken.shown)")
            }
            try expect(.rightParen, "expected `)` after the file path")
            return try readList(path, for: variable, at: pathToken)
        }
        try expect(.leftParen, "expected `(` or file(\"...\") after `in`")
        if peek.kind == .rightParen {
            throw RuleSyntaxError(at: peek, "empty list; write at least one value")
        }
        var literals: [Literal] = []
        while true {
            let item = advance()
            guard let text = item.word ?? stringValue(item) else {
                var message = "expected a value, found \(item.shown)"
                if case .ip = variable.kind, item.kind == .colon { message += " (quote IPv6 addresses: \"::1\")" }
                throw RuleSyntaxError(at: item, message)
            }
            literals.append(try literal(text, for: variable, at: item))
            let next = advance()
            if next.kind == .comma { continue }
            if next.kind == .rightParen { break }
            throw RuleSyntaxError(at: next, "expected `,` or `)` in the list, found \(next.shown)")
        }
        return literals
    }

    func readList(_ path: String, for variable: Variable, at token: Token) throws(RuleSyntaxError) -> [Literal] {
        let contents: String
        do {
            contents = try readFile(path)
        } catch {
            throw RuleSyntaxError(at: token, "cannot read file `\(path)`")
        }
        var literals: [Literal] = []
        for (number, line) in contents.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let value = line.trimmingCharacters(in: .whitespaces)
            if value.isEmpty || value.hasPrefix("#") { continue }
            do throws(RuleSyntaxError) {
                literals.append(try literal(value, for: variable, at: token))
            } catch {
                throw RuleSyntaxError(column: token.column, token: token.text,
                                      message: "file `\(path)` line \(number + 1): \(error.message)",
                                      suggestion: error.suggestion)
            }
        }
        return literals
    }

    /// `"re"` or `("re1", "re2", ...)` after `match`.
    mutating func parsePatterns() throws(RuleSyntaxError) -> [Pattern] {
        if peek.kind == .leftParen {
            advance()
            var patterns: [Pattern] = []
            while true {
                patterns.append(try pattern(advance()))
                let next = advance()
                if next.kind == .comma { continue }
                if next.kind == .rightParen { break }
                throw RuleSyntaxError(at: next, "expected `,` or `)` in the list, found \(next.shown)")
            }
            return patterns
        }
        return [try pattern(advance())]
    }

    func pattern(_ token: Token) throws(RuleSyntaxError) -> Pattern {
        guard let source = stringValue(token) ?? token.word else {
            throw RuleSyntaxError(at: token, "expected a quoted regular expression, found \(token.shown)")
        }
        do {
            // ICU refuses an empty pattern; it matches everything.
            let regex = try NSRegularExpression(pattern: source.isEmpty ? "(?:)" : source, options: [.caseInsensitive])
            return Pattern(source: source, regex: regex)
        } catch {
            throw RuleSyntaxError(at: token, "bad regular expression `\(source)`")
        }
    }

    /// A value written for `variable`, checked against its kind.
    func literal(_ text: String, for variable: Variable, at token: Token) throws(RuleSyntaxError) -> Literal {
        switch variable.kind {
        case .text:
            return .text(text.lowercased())
        case .number(let sizes):
            guard let n = Self.number(text, sizes: sizes) else {
                throw RuleSyntaxError(at: token, "bad number `\(text)`")
            }
            return .number(n)
        case .bool:
            guard let b = Self.bool(text) else {
                throw RuleSyntaxError(at: token, "expected yes or no (true/false, on/off) for `\(variable.name)`, found `\(text)`")
            }
            return .bool(b)
        case .ip:
            guard let network = IPNetwork(text) else {
                throw RuleSyntaxError(at: token, "`\(text)` is not an IP address or network (quote IPv6 addresses)")
            }
            return .network(network)
        case .enumerated(let domain):
            guard let canonical = domain.canonical(text) else {
                var message = "unknown \(domain.name) `\(text)`"
                if text.contains(".") { message += " (references to configuration parameters are not supported)" }
                message += "; known: " + domain.cases.joined(separator: ", ")
                throw RuleSyntaxError(at: token, message, suggestion: Suggestion.closest(to: text, among: domain.cases))
            }
            return .enumCase(canonical)
        }
    }

    static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes", "true", "on", "1": true
        case "no", "false", "off", "0": false
        default: nil
        }
    }

    /// Decimal numbers (`0.80`, `-3`, `+1.5`); with `sizes`, a K, M or G suffix (KB, MB, GB too) multiplies by 1024s.
    static func number(_ text: String, sizes: Bool) -> Double? {
        var digits = Substring(text)
        var factor = 1.0
        if sizes {
            let upper = text.uppercased()
            for (suffix, f) in [("KB", 1024.0), ("MB", 1048576.0), ("GB", 1073741824.0),
                                ("K", 1024.0), ("M", 1048576.0), ("G", 1073741824.0)] where upper.hasSuffix(suffix) {
                digits = digits.dropLast(suffix.count)
                factor = f
                break
            }
        }
        var body = digits
        if let sign = body.first, sign == "+" || sign == "-" { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              body.filter({ $0 == "." }).count <= 1, body != ".",
              let value = Double(digits), value.isFinite
        else { return nil }
        return value * factor
    }
}
