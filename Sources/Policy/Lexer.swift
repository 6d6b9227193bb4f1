/// Splits one rule into tokens. Pure: no I/O, no knowledge of variables or actions.
struct Lexer {
    static func isWordCharacter(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || "_.-/@+%".contains(c)
    }

    /// Tokens of `rule`, always ending with `.end`.
    static func tokenize(_ rule: String) throws(RuleSyntaxError) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(rule)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let column = i + 1
            if c == " " || c == "\t" || c == "\r" || c == "\n" {
                i += 1
                continue
            }
            switch c {
            case "(": tokens.append(Token(kind: .leftParen, column: column, text: "(")); i += 1
            case ")": tokens.append(Token(kind: .rightParen, column: column, text: ")")); i += 1
            case ",": tokens.append(Token(kind: .comma, column: column, text: ",")); i += 1
            case ":": tokens.append(Token(kind: .colon, column: column, text: ":")); i += 1
            case "\"":
                var value = ""
                var j = i + 1
                var closed = false
                while j < chars.count {
                    let d = chars[j]
                    if d == "\"" { closed = true; break }
                    if d == "\\", j + 1 < chars.count, chars[j + 1] == "\"" || chars[j + 1] == "\\" {
                        value.append(chars[j + 1])
                        j += 2
                        continue
                    }
                    // Any other backslash stays, so regexes like "\d+" read as written.
                    value.append(d)
                    j += 1
                }
                guard closed else {
                    throw RuleSyntaxError(column: column, token: String(chars[i...]),
                                          message: "unterminated string: no closing `\"`")
                }
                tokens.append(Token(kind: .string(value), column: column, text: String(chars[i...j])))
                i = j + 1
            case ">", "<", "=", "!":
                if i + 1 < chars.count, chars[i + 1] == "=" {
                    tokens.append(Token(kind: .symbol(String(c) + "="), column: column, text: String(c) + "="))
                    i += 2
                } else if c == "!" {
                    throw RuleSyntaxError(column: column, token: "!", message: "unexpected `!`; write `!=` or `not`")
                } else {
                    tokens.append(Token(kind: .symbol(String(c)), column: column, text: String(c)))
                    i += 1
                }
            default:
                guard isWordCharacter(c) else {
                    throw RuleSyntaxError(column: column, token: String(c), message: "unexpected character `\(c)`")
                }
                var j = i
                while j < chars.count, isWordCharacter(chars[j]) { j += 1 }
                let word = String(chars[i..<j])
                tokens.append(Token(kind: .word(word), column: column, text: word))
                i = j
            }
        }
        tokens.append(Token(kind: .end, column: chars.count + 1, text: ""))
        return tokens
    }
}
