import Testing
@testable import MIME

/// The 8-bit decoders write UTF-8 bytes directly (for speed): every byte value must still
/// come out as the character the charset gives it.
struct CharsetTests {
    @Test func everyLatin1ByteIsTheScalarOfTheSameValue() {
        let bytes = (0...255).map { UInt8($0) }
        let text = Charset.decode(bytes, charset: "ISO-8859-1")
        #expect(text.map { Array($0.unicodeScalars.map(\.value)) } == bytes.map { UInt32($0) })
    }

    @Test func windows1252MapsItsHighControlsToTheirCharacters() {
        let bytes = (0...255).map { UInt8($0) }
        guard let text = Charset.decode(bytes, charset: "cp1252") else {
            Issue.record("windows-1252 not decoded")
            return
        }
        let scalars = text.unicodeScalars.map(\.value)
        #expect(scalars.count == 256)
        #expect(scalars[0x41] == 0x41)
        #expect(scalars[0x80] == 0x20AC)  // €
        #expect(scalars[0x81] == 0x81)  // undefined: the C1 control itself
        #expect(scalars[0x85] == 0x2026)  // …
        #expect(scalars[0x99] == 0x2122)  // ™
        #expect(scalars[0x9F] == 0x0178)  // Ÿ
        #expect(scalars[0xA0] == 0xA0)
        #expect(scalars[0xFF] == 0xFF)
    }

    @Test func eightBitHeaderTextIsUTF8WhenValidElseLatin1() {
        #expect(Charset.utf8OrLatin1(Array("café".utf8)) == "café")
        #expect(Charset.utf8OrLatin1([0x63, 0x61, 0x66, 0xE9]) == "café")
        #expect(Charset.utf8OrLatin1([0xC3]) == "Ã")  // a truncated sequence is not UTF-8
    }

    @Test func charsetNamesMatchWhateverTheirCaseQuotesAndSpaces() {
        #expect(Charset.canonicalName("\"UTF-8\"") == "utf-8")
        #expect(Charset.canonicalName(" Windows-1252\t") == "windows-1252")
        #expect(Charset.canonicalName("ISO_8859-1") == "iso-8859-1")
        #expect(Charset.canonicalName("US-ASCII") == "us-ascii")
        #expect(Charset.canonicalName("utf-7") == nil)
        #expect(Charset.canonicalName("ＵＴＦ-8") == nil, "fullwidth letters are not ASCII")
    }

    @Test func slicesAndNonContiguousBytesDecodeAlike() {
        let bytes: [UInt8] = [0x63, 0x61, 0x66, 0xE9, 0x80]
        let whole = Charset.decode(bytes, charset: "windows-1252")
        #expect(whole == "café€")
        #expect(Charset.decode(bytes[1...], charset: "windows-1252") == "afé€")
        #expect(Charset.decode(bytes.lazy.map { $0 }, charset: "windows-1252") == whole)
        #expect(Charset.decode(bytes, charset: "koi8-r") == nil)
    }

    /// The eight-at-a-time ASCII test: a high byte at each position of buffers of every length
    /// up to 40, in arrays, slices that start off an 8-byte boundary and a non-contiguous collection.
    @Test func asciiIsFoundWordAtATimeAsByteByByte() {
        for length in 0...40 {
            let clean = [UInt8](repeating: UInt8(ascii: "x"), count: length)
            #expect(Charset.isASCII(clean))
            #expect(Charset.isASCII(clean.lazy.map { $0 }), "not contiguous")
            for position in 0..<length {
                for high: UInt8 in [0x80, 0xC3, 0xFF] {
                    var bytes = clean
                    bytes[position] = high
                    #expect(!Charset.isASCII(bytes))
                    #expect(!Charset.isASCII(bytes.lazy.map { $0 }))
                    for start in 0...min(3, position) {
                        #expect(!Charset.isASCII(bytes[start...]), "slice from \(start)")
                    }
                    if position >= 1 { #expect(Charset.isASCII(bytes[..<position]), "the slice ends before the high byte") }
                }
            }
        }
    }

    /// The uuencode scanner's line reader (memchr to the LF) gives each line's content end and
    /// the next line's start as the byte walk did, for every start and end in buffers of CR, LF
    /// and text.
    @Test func uuLinesEndWhereTheByteWalkEndsThem() {
        for text in ["", "a", "\n", "\r\n", "ab\r\ncd\n\nef\r", "\r\r\n\n", "line one\nline two\r\nthree"] {
            let b = Array(text.utf8)
            for start in 0...b.count {
                for end in 0...b.count {
                    var lf = start
                    while lf < end && b[lf] != 0x0A { lf += 1 }
                    var contentEnd = lf
                    if contentEnd > start && b[contentEnd - 1] == 0x0D { contentEnd -= 1 }
                    let got = InlineUUScanner.line(b, start, end)
                    #expect(got.contentEnd == contentEnd && got.next == (lf < end ? lf + 1 : end), "\(text.debugDescription) \(start)..<\(end)")
                }
            }
        }
    }
}
