import Testing
@testable import Policy

struct LexerTests {
    @Test func tokensAndColumns() throws {
        let tokens = try Lexer.tokenize(#"a_b in ("x\"y", 0.80) : REJECT >= != ==, <"#)
        let kinds = tokens.map(\.kind)
        #expect(kinds == [.word("a_b"), .word("in"), .leftParen, .string("x\"y"), .comma, .word("0.80"), .rightParen,
                          .colon, .word("REJECT"), .symbol(">="), .symbol("!="), .symbol("=="), .comma, .symbol("<"),
                          .end])
        #expect(tokens.map(\.column) == [1, 5, 8, 9, 15, 17, 21, 23, 25, 32, 35, 38, 40, 42, 43])
        #expect(tokens[3].text == #""x\"y""#)
    }

    @Test func wordsTakeAddressesAndTypes() throws {
        let tokens = try Lexer.tokenize("user+tag@example.com 10.0.0.0/8 application/x-zip 50%")
        #expect(tokens.compactMap(\.word) == ["user+tag@example.com", "10.0.0.0/8", "application/x-zip", "50%"])
    }

    @Test func tabsAndUnicode() throws {
        let tokens = try Lexer.tokenize("subject\t\"Grüße\" : PASS")
        #expect(tokens.map(\.column) == [1, 9, 17, 19, 23])
        #expect(tokens[1].kind == .string("Grüße"))
    }

    @Test func backslashes() throws {
        #expect(try Lexer.tokenize(#""a\\b\.c\d""#)[0].kind == .string(#"a\b\.c\d"#))
        #expect(throws: RuleSyntaxError.self) { try Lexer.tokenize(#""abc\""#) }
    }
}
