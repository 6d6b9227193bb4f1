import Testing
@testable import MIME

/// Header text Moat writes (ADD_HEADER values, report subjects) must come back as it was
/// from any RFC 2047 reader, and no word may pass 75 characters (RFC 2047 2: readers may
/// refuse longer ones; the Gate's old encoder wrote one word of any length).
@Suite struct EncodedWordEncoderTests {
    static let samples = [
        "Größe geprüft",
        String(repeating: "é", count: 40),
        "Проверено антивирусом Moat: угроз не обнаружено, письмо доставлено получателю",
        "病毒扫描完成：未发现威胁。邮件已经送达收件人，请放心查看附件内容。",
        "👩‍👩‍👧‍👦 family " + String(repeating: "🏳️‍🌈", count: 12),
        "x\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}\u{307}\u{308}\u{309}\u{30A}\u{30B}\u{30C}\u{30D}\u{30E}\u{30F}\u{310}\u{311}\u{312}\u{313}\u{314}\u{315}\u{316}\u{317}\u{318}\u{319}\u{31A}",
    ]

    @Test(arguments: samples)
    func wordsDecodeBackAndStayWithin75Characters(_ text: String) {
        let words = EncodedWordEncoder.words(text)
        #expect(words.allSatisfy { $0.utf8.count <= 75 }, "\(words.map(\.utf8.count))")
        #expect(words.allSatisfy { $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") })
        // Folded as in a message, then read back as a header value is read.
        let folded = EncodedWordEncoder.encode(text)
        #expect(EncodedWord.decode(Array(folded.replacingOccurrences("\r\n", "").utf8)) == text)
    }

    @Test func printableASCIIStaysAsItIs() {
        #expect(EncodedWordEncoder.words("clean, 0 threats") == ["clean, 0 threats"])
        #expect(EncodedWordEncoder.words("tab\there") != ["tab\there"], "a control character is never written raw")
    }
}
