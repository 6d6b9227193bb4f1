import Testing
@testable import AntiSpam

/// Words out of text in any script, bounded whatever the input.
struct TokenizerTests {
    let tokenizer = Tokenizer()

    @Test func latinWordsAreLowerCasedAndSplitOnPunctuation() {
        #expect(tokenizer.tokens("Buy CHEAP meds, now! Only $99.") == ["buy", "cheap", "meds", "now", "only", "$99"])
    }

    @Test func oneLetterWordsAreDroppedAndLongRunsBecomeShapes() {
        #expect(tokenizer.tokens("a b cd 1234567 " + String(repeating: "x", count: 45))
                == ["cd", "~num7", "~long4"])
    }

    @Test func cyrillicWordsAreWords() {
        #expect(tokenizer.tokens("Скидка НА всё: 50%") == ["скидка", "на", "всё", "50"])
    }

    @Test func wordsWithLettersBeyondASCIIAreLoweredAsUnicodeLowersThem() {
        // Final sigma, a dotted capital I, a sharp s, a titlecase digraph, a mixed word.
        for word in ["ΟΔΟΣ", "İstanbul", "STRAẞE", "ǄEMAL", "CAFÉ", "ÀBC"] {
            #expect(tokenizer.tokens(word) == [word.lowercased()], "\(word)")
        }
        #expect(tokenizer.tokens("ABC déF") == ["abc", "déf"])
    }

    @Test func cjkTextBecomesCharacterBigrams() {
        // "免费发票" (free invoice) has no spaces: bigrams of neighbouring characters.
        #expect(tokenizer.tokens("免费发票 ok") == ["免费", "费发", "发票", "ok"])
        // A single character between spaces is a token of its own.
        #expect(tokenizer.tokens("x 中 y") == ["中"])
        #expect(tokenizer.tokens("セール中です") == ["セー", "ール", "ル中", "中で", "です"])
    }

    @Test func tokenCountIsBoundedOnAHundredThousandTinyTokens() {
        let junk = String(repeating: "ab ", count: 100_000)
        #expect(Tokenizer(maxTokens: 3000).tokens(junk).count == 3000)
    }

    @Test func invalidScalarsAndControlCharactersSplitWords() {
        let text = String(decoding: [0x66, 0x6F, 0x6F, 0xFF, 0xFE, 0x62, 0x61, 0x72, 0x00, 0x71, 0x71] as [UInt8], as: UTF8.self)
        #expect(tokenizer.tokens(text) == ["foo", "bar", "qq"])
    }
}
