@testable import AntiSpam
import Testing

/// The byte search that finds GTUBE in a body: at either end, after false starts, never past
/// the end, in slices that do not start at zero.
struct ByteSearchTests {
    @Test func findsTheNeedleWhereverItIsAndOnlyThere() {
        let needle = Array("XJS*C4".utf8)
        func found(_ text: String) -> Bool { AnalysedMessage.contains(Array(text.utf8), needle) }
        #expect(found("XJS*C4"))
        #expect(found("XJS*C4 at the start"))
        #expect(found("at the end XJS*C4"))
        #expect(found("XXJS*XJS*CXJS*C4 after false starts"))
        #expect(!found("XJS*C"), "shorter than the needle")
        #expect(!found("a partial one at the end XJS*C"))
        #expect(!found("xjs*c4"), "bytes, not letters regardless of case")
        #expect(!found(""))
        #expect(!AnalysedMessage.contains(Array("abc".utf8), []))
        let bytes = Array("..XJS*C4..".utf8)
        #expect(AnalysedMessage.contains(bytes[2...], needle), "a slice")
        #expect(!AnalysedMessage.contains(bytes[3...], needle))
        #expect(!AnalysedMessage.contains(bytes[..<7], needle), "the slice's end is the end")
    }

    @Test func asciiTextIsFoundInStringsAndSubstrings() {
        #expect("Buy now!!".containsASCII("!!"))
        #expect("Réduction ??? énorme".containsASCII("???"), "after non-ASCII text")
        #expect(!"one ! two !".containsASCII("!!"))
        #expect(!"??".containsASCII("???"))
        #expect("a@b".containsASCII("@") && !"ab".containsASCII("@"))
        let substring = "xx%41yy".dropFirst(2).prefix(3)
        #expect(substring.containsASCII("%") && !substring.containsASCII("y"))
        #expect("anything".containsASCII(""))
        #expect(!"ab!!cd".prefix(3).containsASCII("!!"), "the substring's end is the end, not its base string's")
        #expect("ab!!cd".dropFirst(2).prefix(2).containsASCII("!!"))
        #expect(!"!".containsASCII("!!"), "a needle longer than the text")
        #expect("éé???".containsASCII("???") && !"éé??".containsASCII("???"), "at the very end")
    }

    /// Texts over a small alphabet, with runs of the needle's first byte (what made the
    /// memchr-to-first-byte search slow), give the same answer as trying every position.
    @Test func agreesWithTryingEveryPosition() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        let alphabet = Array("XJS*C4 ".utf8)
        let needles = [Array("XJS*C4".utf8), Array("XX".utf8), Array("X".utf8), Array("*C4 X".utf8),
                       Array("XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X".utf8)]
        for round in 0..<4_000 {
            var text = (0..<next(40)).map { _ in alphabet[next(alphabet.count)] }
            if round % 5 == 0 { text += Array(repeating: UInt8(ascii: "X"), count: next(300)) }
            if round % 7 == 0 { text.insert(contentsOf: needles[round % needles.count], at: next(text.count + 1)) }
            for needle in needles {
                let expected = text.count >= needle.count
                    && (0...(text.count - needle.count)).contains { text[$0..<($0 + needle.count)].elementsEqual(needle) }
                #expect(AnalysedMessage.contains(text, needle) == expected, "\(String(decoding: text, as: UTF8.self)) / \(String(decoding: needle, as: UTF8.self))")
            }
        }
    }
}
