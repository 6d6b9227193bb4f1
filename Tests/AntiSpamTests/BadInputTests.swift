import Foundation
import MIME
import Testing
@testable import AntiSpam

/// Junk gets a score, never a crash, and only a bounded part of it is read.
struct BadInputTests {
    let engine = try! LearningTests.trained()

    @Test func binaryJunkGetsAScore() {
        var x: UInt64 = 42
        let junk = (0..<200_000).map { _ -> UInt8 in
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: x >> 56)
        }
        let r = engine.check(MessageParser.parse(junk))
        #expect(r.points.isFinite)
        #expect((0...1).contains(r.totalSpamScore))
    }

    @Test func aHundredThousandTinyTokensAreCutAtTheTokenLimit() {
        let m = TestMessages.plain(body: String(repeating: "ab cd ", count: 50_000))
        let analysed = AnalysedMessage(m, limits: AntiSpamLimits())
        let features = FeatureExtractor(limits: AntiSpamLimits()).features(of: analysed)
        // Two distinct words: a handful of features, however long the text.
        #expect(features.count < 100)
        #expect(engine.check(m).points.isFinite)
    }

    @Test func onlyTheLimitOfAFiftyMegabyteTextPartIsRead() {
        let limits = AntiSpamLimits(maxPartBytes: 64 * 1024)
        let line = "filler words in a very large text part\r\n"
        let big = String(repeating: line, count: 50 * 1024 * 1024 / line.utf8.count)
        let m = TestMessages.plain(body: big + "TAILMARKER")
        let analysed = AnalysedMessage(m, limits: limits)
        #expect(analysed.textParts.count == 1)
        #expect(analysed.textParts[0].text.utf8.count <= 64 * 1024)
        #expect(!analysed.textParts[0].text.contains("TAILMARKER"))
    }

    @Test func invalidUTF8InADeclaredUTF8PartIsAMismatchNotAFailure() {
        let m = MessageParser.parse(Array("From: a@example.org\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nabc ".utf8)
                                    + [0xC3, 0x28, 0xFF] + Array(" def\r\n".utf8))
        let r = engine.check(m)
        #expect(r.symbols.contains { $0.name == "MIME_CHARSET_MISMATCH" })
    }

    @Test func koi8rAndShiftJISPartsAreDecodedToWords() {
        // "привет мир" in KOI8-R; "セール" in Shift_JIS.
        let koi8: [UInt8] = [0xD0, 0xD2, 0xC9, 0xD7, 0xC5, 0xD4, 0x20, 0xCD, 0xC9, 0xD2]
        let sjis: [UInt8] = [0x83, 0x5A, 0x81, 0x5B, 0x83, 0x8B]
        func message(_ charset: String, _ body: [UInt8]) -> MIMEMessage {
            MessageParser.parse(Array("From: a@example.org\r\nContent-Type: text/plain; charset=\(charset)\r\n\r\n".utf8) + body)
        }
        let ru = AnalysedMessage(message("koi8-r", koi8), limits: AntiSpamLimits())
        #expect(Tokenizer().tokens(ru.textParts[0].text) == ["привет", "мир"])
        #expect(!ru.textParts[0].charsetMismatch)
        let ja = AnalysedMessage(message("Shift_JIS", sjis), limits: AntiSpamLimits())
        #expect(Tokenizer().tokens(ja.textParts[0].text) == ["セー", "ール"])
    }

    @Test func deeplyNestedHTMLPartGetsAScore() {
        let html = String(repeating: "<div><span>", count: 50_000) + "x" + String(repeating: "</span></div>", count: 50_000)
        let r = engine.check(TestMessages.html(html))
        #expect(r.symbols.contains { $0.name == "HTML_EXCESSIVE_NESTING" })
    }
}
