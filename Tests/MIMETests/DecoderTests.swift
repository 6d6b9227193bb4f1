import Testing
@testable import MIME

/// Feeds `input` to a fresh decoder split at every position (and byte by byte) and
/// checks the output never depends on the split.
func forEverySplit(_ input: [UInt8], decode: ([ArraySlice<UInt8>]) -> [UInt8]) -> [UInt8] {
    let whole = decode([input[...]])
    for cut in 0...input.count {
        let out = decode([input[0..<cut], input[cut...]])
        #expect(out == whole, "split at \(cut)")
    }
    for cut2 in stride(from: 0, through: input.count, by: 3) {
        for cut1 in stride(from: 0, through: cut2, by: 2) {
            #expect(decode([input[0..<cut1], input[cut1..<cut2], input[cut2...]]) == whole, "splits \(cut1),\(cut2)")
        }
    }
    #expect(decode(input.indices.map { input[$0...$0] }) == whole, "byte by byte")
    return whole
}

func base64(_ chunks: [ArraySlice<UInt8>]) -> [UInt8] {
    var d = Base64Decoder()
    var out: [UInt8] = []
    for c in chunks { d.decode(c, into: &out) }
    d.finish(into: &out)
    return out
}

func qp(_ chunks: [ArraySlice<UInt8>]) -> [UInt8] {
    var d = QuotedPrintableDecoder()
    var out: [UInt8] = []
    for c in chunks { d.decode(c, into: &out) }
    d.finish(into: &out)
    return out
}

func uu(_ chunks: [ArraySlice<UInt8>]) -> [UInt8] {
    var d = UUDecoder()
    var out: [UInt8] = []
    for c in chunks { d.decode(c, into: &out) }
    d.finish(into: &out)
    return out
}

@Suite("Decoders")
struct DecoderTests {
    @Test func base64Lenient() {
        // Odd line lengths, CRLF and LF, spaces, a garbage char, missing padding.
        let input = bytes("SGVs\r\nbG8s IHdv\ncmxk*IQ")
        let out = forEverySplit(input, decode: base64)
        #expect(string(out) == "Hello, world!")
        var d = Base64Decoder()
        var sink: [UInt8] = []
        d.decode(input, into: &sink)
        d.finish(into: &sink)
        #expect(d.problems == [.invalidBase64])
    }

    @Test func base64PaddingAndConcatenation() {
        #expect(string(Base64Decoder.decode(bytes("YQ==YmM=")[...])) == "abc")
        #expect(string(Base64Decoder.decode(bytes("YWJj\n\n\nZGVm")[...])) == "abcdef")
        var d = Base64Decoder()
        var out: [UInt8] = []
        d.decode(bytes("YWJjZ"), into: &out)
        d.finish(into: &out)
        #expect(string(out) == "abc")
        #expect(d.problems == [.truncatedBase64])
    }

    @Test func base64LongSingleLine() {
        let data = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let encoded = Base64Encoder.encode(data, lineLength: 100_000, lineEnding: [])
        #expect(encoded.count == 4000)
        #expect(Base64Decoder.decode(encoded[...]) == data)
        #expect(Base64Decoder.decode(Base64Encoder.encode(data)[...]) == data)
    }

    @Test func quotedPrintable() {
        let input = bytes("caf=C3=A9 =\r\nsoft=\nbreak =3d=3D lower=e9 bad=ZZ end= \t\r\nx=")
        let out = forEverySplit(input, decode: qp)
        var expected = bytes("café softbreak == lower")
        expected.append(0xE9)
        expected += bytes(" bad=ZZ endx")
        #expect(out == expected)
        var d = QuotedPrintableDecoder()
        var sink: [UInt8] = []
        d.decode(input, into: &sink)
        d.finish(into: &sink)
        #expect(d.problems == [.invalidQuotedPrintable])
        // Hard line breaks pass through.
        #expect(string(QuotedPrintableDecoder.decode(bytes("a\r\nb\nc")[...])) == "a\r\nb\nc")
    }

    @Test func quotedPrintableRoundTrip() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<50 {
            var data = (0..<Int.random(in: 0..<400, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            data.removeAll { $0 == 0x0D || $0 == 0x0A }
            let encoded = QuotedPrintableEncoder.encode(data)
            #expect(QuotedPrintableDecoder.decode(encoded[...]) == data)
            #expect(encoded.split(separator: 0x0A).allSatisfy { $0.count <= 77 })
        }
        #expect(QuotedPrintableDecoder.decode(QuotedPrintableEncoder.encode(bytes("a \nb"), lineEnding: [0x0A])[...]) == bytes("a \nb"))
    }

    @Test func uudecode() {
        // "Cat" and "Hello, world!" encoded by GNU uuencode.
        let input = bytes("junk before\nbegin 644 cat.txt\n#0V%T\n-2&5L;&\\L('=O<FQD(0``\n`\nend\ntrailing junk\n")
        let out = forEverySplit(input, decode: uu)
        #expect(string(out) == "CatHello, world!")
        let (_, name) = UUDecoder.decode(input[...])
        #expect(name == "cat.txt")
        var d = UUDecoder()
        var sink: [UInt8] = []
        d.decode(input, into: &sink)
        d.finish(into: &sink)
        #expect(d.problems.isEmpty)
        #expect(d.mode == 0o644)
    }

    @Test func uuencodeRoundTripAndMissingEnd() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let encoded = UUEncoder.encode(data, fileName: "x.bin", lineEnding: [0x0A])
        let (decoded, name) = UUDecoder.decode(encoded[...])
        #expect(decoded == data)
        #expect(name == "x.bin")
        var d = UUDecoder()
        var out: [UInt8] = []
        d.decode(bytes("begin 600 y\n#0V%T\n"), into: &out)
        d.finish(into: &out)
        #expect(string(out) == "Cat")
        #expect(d.problems == [.missingUUEncodeEnd])
        var none = UUDecoder()
        none.decode(bytes("no uu here\n"), into: &out)
        #expect(none.problems == [.invalidUUEncode])
    }

    @Test func encodersLineEndings() {
        let b = Base64Encoder.encode(Array(repeating: 0x41, count: 100), lineEnding: [0x0A])
        let lines = b.split(separator: 0x0A)
        #expect(lines.count == 2)
        #expect(lines[0].count == 76)
    }
}
