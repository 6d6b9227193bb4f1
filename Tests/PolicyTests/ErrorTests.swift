import Testing
@testable import Policy

/// Rules that must not compile: where the error points, what it says, what it suggests.
struct ErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let rule: String
        let column: Int
        let message: String
        var suggestion: String? = nil
        var token: String?? = .none  // .none: not checked
        var kind: RuleSetKind = .mail
        var testDescription: String { rule.isEmpty ? "(empty)" : rule }
    }

    static let cases: [Case] = [
        // Unknown names, with suggestions
        Case(rule: "threat_categry in (KnownVirus) : REJECT", column: 1,
             message: "unknown variable `threat_categry`", suggestion: "threat_category", token: "threat_categry"),
        Case(rule: "threat_category in (KnowVirus) : REJECT", column: 21,
             message: "unknown threat category `KnowVirus`", suggestion: "KnownVirus", token: "KnowVirus"),
        Case(rule: "protocol in (Smpt) : SCAN_MAIL", column: 14, message: "unknown protocol `Smpt`",
             suggestion: "Smtp", kind: .firewall),
        Case(rule: "threat_category in (LinuxFirewall.BlockCategory) : REJECT", column: 21,
             message: "references to configuration parameters are not supported"),
        Case(rule: "spam_score gt 0.8 : REJCT", column: 21, message: "unknown action `REJCT`",
             suggestion: "REJECT", token: "REJCT"),
        Case(rule: "PAS", column: 1, message: "unknown action `PAS`", suggestion: "PASS"),
        Case(rule: "REJECT : PASS", column: 1, message: "`REJECT` is an action; actions go after the `:`"),
        Case(rule: "threat_categry in (KnownVirus) REJECT", column: 1, message: "unknown variable `threat_categry`",
             suggestion: "threat_category"),
        Case(rule: "subjct \"x\"", column: 1, message: "unknown variable `subjct`", suggestion: "subject"),
        Case(rule: "src_ip in (::1) : PASS", column: 12, message: "expected a value, found `:` (quote IPv6 addresses"),
        Case(rule: "src_ip fe80::1 : PASS", column: 8, message: "`fe80` is not an IP address or network (quote IPv6"),
        Case(rule: "SET subject = x", column: 5, message: "`SET` can change only `unwrap_ssl` and `tag`"),
        // Structure
        Case(rule: "threat_category in (KnownVirus) REJECT \"x\"", column: 33,
             message: "missing `:` before the actions", token: "REJECT"),
        Case(rule: "spam_score gt 0.8 REJECT", column: 19, message: "missing `:` before the actions"),
        Case(rule: "unwrap_ssl REJECT", column: 12, message: "missing `:` before the actions"),
        Case(rule: "spam_score gt 0.5", column: 18, message: "missing `:` and actions after the conditions",
             token: .some(nil)),
        Case(rule: "", column: 1, message: "empty rule", token: .some(nil)),
        Case(rule: "   ", column: 1, message: "empty rule"),
        Case(rule: ": ", column: 3, message: "expected an action, found the end of the rule"),
        Case(rule: "PASS, REJECT", column: 7, message: "`REJECT` can never run: `PASS` before it ends the rule"),
        Case(rule: "PASS \"text\"", column: 6, message: "expected `,` or the end of the rule after `PASS`"),
        Case(rule: "REJECT 550 \"x\"", column: 8, message: "expected `,` or the end of the rule after `REJECT`"),
        Case(rule: "spam_score gt 0.8, : PASS", column: 20, message: "expected a variable, found `:`"),
        Case(rule: "subject : REJECT", column: 9, message: "`subject` needs a value or an operator"),
        Case(rule: "subject = \"x\" : REJECT", column: 9, message: "`=` does not compare; write `==` or `eq`"),
        Case(rule: "subject ! \"x\" : REJECT", column: 9, message: "unexpected `!`"),
        Case(rule: "subject match \"a\" ; REJECT", column: 19, message: "unexpected character `;`"),
        Case(rule: "SCAN_MAIL", column: 1, message: "`SCAN_MAIL` is only for the LinuxFirewall rule set"),
        // Lists
        Case(rule: "threat_category in () : REJECT", column: 21, message: "empty list"),
        Case(rule: "threat_category in (KnownVirus : REJECT", column: 32, message: "expected `,` or `)` in the list"),
        Case(rule: "threat_category in KnownVirus : REJECT", column: 20, message: "expected `(` or file(\"...\") after `in`"),
        Case(rule: "threat_category in (KnownVirus) : REPACK(\"x\"", column: 45,
             message: "expected `)` after the text, found the end of the rule"),
        // Strings and regexes
        Case(rule: "subject \"abc : REJECT", column: 9, message: "unterminated string"),
        Case(rule: "body match \"(buy\" : REJECT", column: 12, message: "bad regular expression `(buy`",
             token: "\"(buy\""),
        Case(rule: "body match (\"ok\", \"[a-\") : REJECT", column: 19, message: "bad regular expression `[a-`"),
        // Types and numbers
        Case(rule: "spam_score gt 0.8x : REJECT", column: 15, message: "bad number `0.8x`", token: "0.8x"),
        Case(rule: "spam_score gt abc : REJECT", column: 15, message: "bad number `abc`"),
        Case(rule: "spam_score gt nan : REJECT", column: 15, message: "bad number `nan`"),
        Case(rule: "message_size gt 10Q : REJECT", column: 17, message: "bad number `10Q`"),
        Case(rule: "spam_score in (0.5, 1..2) : REJECT", column: 21, message: "bad number `1..2`"),
        Case(rule: "subject gt 5 : REJECT", column: 9, message: "`gt` compares numbers; `subject` is text"),
        Case(rule: "spam_score match \"x\" : REJECT", column: 12, message: "`match` needs a text variable"),
        Case(rule: "src_ip 10.0.0.300 : REJECT", column: 8, message: "`10.0.0.300` is not an IP address or network"),
        Case(rule: "src_ip 10.0.0.0/33 : REJECT", column: 8, message: "is not an IP address or network"),
        Case(rule: "tls maybe : REJECT", column: 5, message: "expected yes or no"),
        // Files
        Case(rule: "to in file(\"/etc/moat/missing\") : PASS", column: 12,
             message: "cannot read file `/etc/moat/missing`"),
        Case(rule: "threat_category in file(\"/etc/moat/bad-categories\") : REJECT", column: 25,
             message: "file `/etc/moat/bad-categories` line 2: unknown threat category `KnowVirus`",
             suggestion: "KnownVirus"),
        // Headers
        Case(rule: "header match \"x\" : PASS", column: 8, message: "`header` takes a name in parentheses"),
        Case(rule: "header(\"List-Id\" match \"x\" : PASS", column: 18, message: "expected `)` after the header name"),
        Case(rule: "ADD_HEADER(\"Bad Name\", \"x\")", column: 12, message: "`Bad Name` is not a header name"),
        Case(rule: "ADD_HEADER(\"X-A\" \"x\")", column: 18, message: "expected `,` after the header name"),
        Case(rule: "ADD_HEADER", column: 11, message: "expected `(` after ADD_HEADER"),
    ]

    @Test(arguments: cases)
    func error(_ c: Case) throws {
        let error = try #require(compileError([c.rule], kind: c.kind))
        #expect(error.column == c.column)
        #expect(error.message.contains(c.message), "\(error.message)")
        #expect(error.suggestion == c.suggestion)
        #expect(error.ruleIndex == 0)
        #expect(error.ruleSetName == "Test")
        if case .some(let token) = c.token {
            #expect(error.token == token)
        }
        #expect(error.column >= 1 && error.column <= c.rule.count + 1)
    }

    @Test func descriptionNamesRuleAndColumn() throws {
        let error = try #require(compileError(["PASS", "threat_categry in (KnownVirus) : REJECT"]))
        #expect(error.ruleIndex == 1)
        #expect(error.description == "rule 2, column 1: unknown variable `threat_categry`; did you mean `threat_category`?")
        let unknown = try #require(compileError(["spam_score gt 0.8 : REJCT"]))
        #expect(unknown.description == "rule 1, column 21: unknown action `REJCT`; did you mean `REJECT`?")
        let noSuggestion = try #require(compileError(["xyzzy in (a) : PASS"]))
        #expect(noSuggestion.description == "rule 1, column 1: unknown variable `xyzzy`")
    }

    @Test func firstBadRuleStopsCompilation() throws {
        let error = try #require(compileError(["PASS", "", "PAS"]))
        #expect(error.ruleIndex == 1)
    }
}
