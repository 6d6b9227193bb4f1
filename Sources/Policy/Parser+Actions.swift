import MoatConfig

/// The action half of a rule: `action[, action ...]`.
extension Parser {
    mutating func parseActions() throws(RuleSyntaxError) -> [Action] {
        var actions: [Action] = []
        var finalKeyword: String?
        while true {
            let token = advance()
            guard let word = token.word else {
                throw RuleSyntaxError(at: token, "expected an action, found \(token.shown)")
            }
            guard let keyword = Action.keyword(word) else {
                let suggestion = Suggestion.closest(to: word, among: Action.keywords)
                // A rule without `:` whose first word is a misspelt variable rather than an action.
                if suggestion == nil, !hasColon, actions.isEmpty,
                   let variable = Suggestion.closest(to: word, among: Variable.allNames) {
                    throw RuleSyntaxError(at: token, "unknown variable `\(word)`", suggestion: variable)
                }
                throw RuleSyntaxError(at: token, "unknown action `\(word)`", suggestion: suggestion)
            }
            if let finalKeyword {
                throw RuleSyntaxError(at: token, "`\(keyword)` can never run: `\(finalKeyword)` before it ends the rule")
            }
            actions.append(try parseAction(keyword, at: token))
            if Action.finalKeywords.contains(keyword) { finalKeyword = keyword }
            let next = advance()
            if next.kind == .comma { continue }
            if next.kind == .end { break }
            throw RuleSyntaxError(at: next, "expected `,` or the end of the rule after `\(keyword)`, found \(next.shown)")
        }
        return actions
    }

    mutating func parseAction(_ keyword: String, at token: Token) throws(RuleSyntaxError) -> Action {
        switch keyword {
        case "PASS": return .final(.pass)
        case "DISCARD": return .final(.discard)
        case "SCAN_MAIL":
            guard kind == .firewall else {
                throw RuleSyntaxError(at: token, "`SCAN_MAIL` is only for the LinuxFirewall rule set")
            }
            return .final(.scanMail)
        case "REJECT": return .final(.reject(try optionalText()))
        case "BLOCK":
            if peek.isWord("as") {
                advance()
                let reason = advance()
                guard let text = reason.word ?? stringValue(reason) else {
                    throw RuleSyntaxError(at: reason, "expected a reason after `as`, found \(reason.shown)")
                }
                return .final(.reject(text))
            }
            return .final(.reject(try optionalText()))
        case "TEMPFAIL": return .final(.tempfail(try optionalText()))
        case "REPACK": return .final(.repack(try optionalText()))
        case "ADD_HEADER": return try parseAddHeader()
        case "ADD_AUTH_RESULTS":
            guard kind == .mail else {
                throw RuleSyntaxError(at: token, "`ADD_AUTH_RESULTS` is only for the MailD rule sets")
            }
            return .addAuthenticationResults
        case "SET": return try parseSet()
        default:
            throw RuleSyntaxError(at: token, "unknown action `\(keyword)`")
        }
    }

    /// `"text"` or `("text")` after REJECT, BLOCK, TEMPFAIL, REPACK; nil when absent.
    mutating func optionalText() throws(RuleSyntaxError) -> String? {
        if let text = stringValue(peek) {
            advance()
            return text
        }
        guard peek.kind == .leftParen else { return nil }
        advance()
        let token = advance()
        guard let text = stringValue(token) else {
            throw RuleSyntaxError(at: token, "expected a quoted text, found \(token.shown)")
        }
        try expect(.rightParen, "expected `)` after the text")
        return text
    }

    /// `ADD_HEADER("Name", "value")`.
    mutating func parseAddHeader() throws(RuleSyntaxError) -> Action {
        try expect(.leftParen, "expected `(` after ADD_HEADER, as in ADD_HEADER(\"X-Moat\", \"checked\")")
        let nameToken = advance()
        guard let name = stringValue(nameToken) ?? nameToken.word else {
            throw RuleSyntaxError(at: nameToken, "expected a header name, found \(nameToken.shown)")
        }
        guard !name.isEmpty, name.count <= 76,
              name.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 && $0 != ":" })
        else {
            throw RuleSyntaxError(at: nameToken, "`\(name)` is not a header name (printable ASCII without spaces or `:`)")
        }
        try expect(.comma, "expected `,` after the header name")
        let valueToken = advance()
        guard let value = stringValue(valueToken) ?? valueToken.word else {
            throw RuleSyntaxError(at: valueToken, "expected a header value, found \(valueToken.shown)")
        }
        guard value.unicodeScalars.allSatisfy({ $0.value >= 32 || $0 == "\t" }), !value.unicodeScalars.contains("\u{7f}") else {
            throw RuleSyntaxError(at: valueToken, "a header value cannot hold control characters")
        }
        try expect(.rightParen, "expected `)` after the header value")
        return .addHeader(HeaderField(name, value))
    }

    /// `SET unwrap_ssl = yes|no` or `SET tag = value`.
    mutating func parseSet() throws(RuleSyntaxError) -> Action {
        let nameToken = advance()
        guard let name = nameToken.word else {
            throw RuleSyntaxError(at: nameToken, "expected a name after SET, found \(nameToken.shown)")
        }
        let settable = Variable.all.filter(\.settable).map(\.name)
        guard let variable = Variable.named(name), variable.settable else {
            throw RuleSyntaxError(at: nameToken, "`SET` can change only " + settable.map { "`\($0)`" }.joined(separator: " and "),
                                  suggestion: Suggestion.closest(to: name, among: settable))
        }
        try expect(.symbol("="), "expected `=` after `\(name)`")
        let valueToken = advance()
        guard let text = valueToken.word ?? stringValue(valueToken) else {
            throw RuleSyntaxError(at: valueToken, "expected a value after `=`, found \(valueToken.shown)")
        }
        switch try literal(text, for: variable, at: valueToken) {
        case .bool(let on): return .setUnwrapSsl(on)
        default: return .addTag(text)
        }
    }
}
