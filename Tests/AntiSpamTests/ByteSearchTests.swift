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
}
