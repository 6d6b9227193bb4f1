/// Splits text into lower-cased words, Unicode-aware.
///
/// - Letters and digits of any script form words; everything else separates them.
/// - Scripts written without spaces (Han, Hiragana, Katakana, Hangul, Thai) give one token
///   per pair of neighbouring characters (character bigrams), the usual way to index them
///   without a dictionary; a lone character is a token of its own.
/// - Words shorter than 2 characters are dropped; longer than `maxWordLength` become a
///   shape token (`~long<n>`), and long digit runs a shape token (`~num<n>`), so base64
///   debris and order numbers do not flood the model with one-off tokens.
/// - At most `maxTokens` tokens: the cost is bounded whatever the input.
public struct Tokenizer: Sendable {
    public var maxTokens: Int
    public var maxWordLength: Int

    public init(maxTokens: Int = 4000, maxWordLength: Int = 30) {
        self.maxTokens = maxTokens
        self.maxWordLength = maxWordLength
    }

    public func tokens(_ text: String) -> [String] {
        var out: [String] = []
        out.reserveCapacity(min(maxTokens, 256))
        // A word's UTF-8 bytes: an ASCII word (most) is lowered byte by byte; appending scalars
        // to a String and Unicode case mapping were half of the tokenizer's cost.
        var word: [UInt8] = []
        word.reserveCapacity(maxWordLength + 4)
        var wordIsASCII = true
        var wordLength = 0
        var digitsOnly = true
        var previousDense: Unicode.Scalar?
        var denseRun = 0

        func endDenseRun() {
            // A run of one dense character still says something.
            if denseRun == 1, let lone = previousDense, out.count < maxTokens { out.append(String(lone)) }
            previousDense = nil
            denseRun = 0
        }

        func flushWord() {
            defer { word.removeAll(keepingCapacity: true); wordIsASCII = true; wordLength = 0; digitsOnly = true }
            guard wordLength >= 2, out.count < maxTokens else { return }
            if wordLength > maxWordLength {
                out.append("~long\(min(wordLength / 10, 9))")
            } else if digitsOnly && wordLength > 4 {
                out.append("~num\(wordLength)")
            } else {
                out.append(wordIsASCII ? Self.asciiLowercased(word) : String(decoding: word, as: UTF8.self).lowercased())
            }
        }

        for scalar in text.unicodeScalars {
            if out.count >= maxTokens { break }
            if Self.isDense(scalar) {
                flushWord()
                if let previous = previousDense {
                    var pair = String.UnicodeScalarView()
                    pair.append(previous)
                    pair.append(scalar)
                    out.append(String(pair))
                }
                previousDense = scalar
                denseRun += 1
                continue
            }
            if denseRun > 0 { endDenseRun() }
            if Self.isWordScalar(scalar) {
                if wordLength < maxWordLength + 1 {
                    if scalar.isASCII {
                        word.append(UInt8(truncatingIfNeeded: scalar.value))
                    } else {
                        UTF8.encode(scalar) { word.append($0) }
                        wordIsASCII = false
                    }
                }
                wordLength += 1
                if !("0"..."9").contains(scalar) { digitsOnly = false }
            } else if wordLength > 0 {
                flushWord()
            }
        }
        flushWord()
        endDenseRun()
        return out
    }

    private static func asciiLowercased(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for (i, byte) in bytes.enumerated() {
                buffer[i] = ASCIIByte.lowered(byte)
            }
            return bytes.count
        }
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x24  // $
        }
        let p = s.properties
        return p.isAlphabetic || p.numericType == .decimal || s == "€" || s == "£"
    }

    /// Scripts written without spaces between words.
    static func isDense(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3040...0x30FF,  // Hiragana, Katakana
             0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FFFF,  // Han
             0xAC00...0xD7AF,  // Hangul syllables
             0x0E00...0x0E7F:  // Thai
            return true
        default:
            return false
        }
    }
}
