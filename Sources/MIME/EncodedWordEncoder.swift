/// RFC 2047 encoded words for header text outside printable ASCII: UTF-8 in base64 ("B")
/// words, each at most 75 characters (RFC 2047 section 2), cut only between characters so
/// that every word decodes on its own (section 5: a word holds whole characters).
public enum EncodedWordEncoder {
    /// 45 bytes of UTF-8 are 60 base64 characters; with `=?UTF-8?B?` and `?=` a word is 72.
    static let bytesPerWord = 45

    /// The value as it may stand in a header: printable ASCII as it is, else encoded words.
    public static func words(_ text: String) -> [String] {
        if text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }) { return [text] }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if !chunk.isEmpty, chunk.count + bytes.count > bytesPerWord {
                words.append(word(chunk))
                chunk = []
            }
            // A single character longer than a word (a long grapheme cluster) is cut between
            // its scalars instead.
            if bytes.count > bytesPerWord {
                for scalar in String(character).unicodeScalars {
                    let scalarBytes = Array(String(scalar).utf8)
                    if chunk.count + scalarBytes.count > bytesPerWord { words.append(word(chunk)); chunk = [] }
                    chunk += scalarBytes
                }
                continue
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    /// The words joined by `folding` (CRLF + space in a message, LF + space for a milter).
    public static func encode(_ text: String, folding: String = "\r\n ") -> String {
        words(text).joined(separator: folding)
    }

    private static func word(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?" + String(decoding: Base64Encoder.encode(bytes, lineLength: .max, lineEnding: []), as: UTF8.self) + "?="
    }
}
