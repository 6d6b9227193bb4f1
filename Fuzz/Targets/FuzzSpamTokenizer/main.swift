// The anti-spam tokenizer behind the charset decoder: any bytes in any declared charset
// become at most maxTokens tokens, none empty or holding white space, none longer than the
// word limit (longer words become shape tokens).
@testable import AntiSpam
import FuzzKit

let charsets = ["utf-8", "us-ascii", "iso-8859-1", "windows-1252", "koi8-r", "windows-1251", "shift_jis",
                "iso-2022-jp", "gb2312", "big5", "euc-kr", "utf-16", "x-unknown"]

runFuzzer { input in
    var reader = FuzzInput(input)
    let charset = charsets[Int(reader.byte()) % charsets.count]
    let maxTokens = Int(reader.byte()) + 1
    let text = TextDecoder.decode(reader.rest()[...], charset: charset).text
    let tokenizer = Tokenizer(maxTokens: maxTokens, maxWordLength: 30)
    let tokens = tokenizer.tokens(text)
    invariant(tokens.count <= maxTokens, "\(tokens.count) tokens > \(maxTokens)")
    for token in tokens {
        invariant(!token.isEmpty, "empty token")
        invariant(!token.unicodeScalars.contains { $0.properties.isWhitespace }, "white space in token \(token)")
        // Lower-casing may lengthen a word a little (İ -> i̇); the word itself was capped at 31.
        invariant(token.unicodeScalars.count <= 2 * 31, "token of \(token.unicodeScalars.count) scalars")
    }
}
