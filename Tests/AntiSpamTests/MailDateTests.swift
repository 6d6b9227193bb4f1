import Foundation
import Testing
@testable import AntiSpam

/// Dates of Date and Received headers, as the header rules read them.
struct MailDateTests {
    /// The words the parser finds, ASCII letters lowered as it compares them.
    private func words(_ value: String, limit: Int) -> [String] {
        var value = value
        return value.withUTF8 { bytes in
            MailDate.words(bytes, limit: limit).map { String(decoding: bytes[$0].map(ASCIIByte.lowered), as: UTF8.self) }
        }
    }

    @Test func anRFC5322DateIsTheInstantItNames() {
        // date -u -d '2026-12-06 17:10:05' +%s
        #expect(MailDate.parse("Sun, 6 Dec 2026 17:10:05 +0000")?.timeIntervalSince1970 == 1_796_577_005)
        #expect(MailDate.parse("Sun, 6 Dec 2026 18:10:05 +0100")?.timeIntervalSince1970 == 1_796_577_005)
        #expect(MailDate.parse("6 Dec 2026 12:10:05 EST")?.timeIntervalSince1970 == 1_796_577_005)
        #expect(MailDate.parse("Thu, 1 Jan 1970 00:00 GMT")?.timeIntervalSince1970 == 0)
        #expect(MailDate.parse("Sunday, 6 December 2026 17:10:05 +0000")?.timeIntervalSince1970 == 1_796_577_005)
        #expect(MailDate.parse("6 Decembers 2026 17:10:05 +0000") != nil, "nine letters at most")
        #expect(MailDate.parse("6 Decemberxx 2026 17:10:05 +0000") == nil)
        // A zone name in a comment, as many mailers add it after or instead of the offset.
        #expect(MailDate.parse("Sun, 6 Dec 2026 12:10:05 (EST)")?.timeIntervalSince1970 == 1_796_577_005)
        #expect(MailDate.parse("Sun, 6 Dec 2026 17:10:05 ((UTC))")?.timeIntervalSince1970 == 1_796_577_005)
    }

    @Test func leapDaysAndTwoDigitYearsCount() {
        // 2024-02-29 00:00:00 UTC and 2000-03-01, a leap year of the 400-year rule
        #expect(MailDate.parse("29 Feb 2024 00:00:00 +0000")?.timeIntervalSince1970 == 1_709_164_800)
        #expect(MailDate.parse("1 Mar 00 00:00:00 +0000")?.timeIntervalSince1970 == 951_868_800)
        #expect(MailDate.parse("1 Mar 99 00:00:00 +0000")?.timeIntervalSince1970 == 920_246_400)
    }

    @Test func wordsAreSplitAtSpacesTabsAndCommasAndLowered() {
        #expect(words("Sun,\t6  DEC 2026 17:10:05 +0000 (UTC)", limit: 12)
            == ["sun", "6", "dec", "2026", "17:10:05", "+0000", "(utc)"])
        #expect(words("a b c d", limit: 2) == ["a", "b"])
        #expect(words(" ,, ", limit: 12).isEmpty)
        #expect(words("Ünïcode ÉTÉ", limit: 12) == ["Ünïcode", "ÉtÉ"], "only ASCII letters are lowered")
        #expect(MailDate.parse("SUN, 06 DEC 2026 17:10:05 GMT")?.timeIntervalSince1970 == 1_796_577_005)
    }

    @Test func aReceivedHeaderIsDatedAfterItsLastSemicolon() {
        let value = "from mx.exämple.org (mx; [192.0.2.1]) by mail.example.com; Sun, 6 Dec 2026 17:10:05 +0000"
        #expect(HeaderRules.receivedDate(value)?.timeIntervalSince1970 == 1_796_577_005)
        #expect(HeaderRules.receivedDate("from a by b with ESMTP") == nil)
        let newer = "by b; Sun, 6 Dec 2026 17:10:05 +0000", older = "by a; Tue, 8 Dec 2026 17:10:05 +0000"
        #expect(HeaderRules.timeGoesBackwards([newer, older]), "the older hop is stamped two days later")
        #expect(!HeaderRules.timeGoesBackwards([older, newer]))
    }

    @Test func monthNamesAreCountedInCharactersNotBytes() {
        #expect(MailDate.parse("6 Decembréé 2026 17:10:05 +0000") != nil, "nine characters in eleven bytes")
        #expect(MailDate.parse("6 Decembrééé 2026 17:10:05 +0000") == nil, "ten characters")
    }

    @Test func numbersAreReadAsSwiftReadsThem() {
        // The parser reads numbers on the bytes; it must accept what `Int(String)` accepts.
        let texts = ["", "+", "-", "0", "-0", "+12", "12a", "a12", "1 2", "٣", "00042", "+-1",
                     "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809"]
        for text in texts {
            var copy = text
            #expect(copy.withUTF8 { MailDate.integer($0) } == Int(text), "\(text)")
        }
        #expect(MailDate.parse("6 Dec 2026 17:10:05 +-100").map { Int($0.timeIntervalSince1970) } == 1_796_580_605,
                "a sign, then a signed number, as before")
    }

    @Test func zonesAreNamedInAnyCaseWithOrWithoutParentheses() {
        for (word, hours) in [("EST", -5), ("(pdt)", -7), ("(utc", 0), ("Z)", 0), ("gMt", 0)] as [(String, Int)] {
            var copy = word
            #expect(copy.withUTF8 { MailDate.zone($0) } == hours, "\(word)")
        }
        for word in ["()", "ESTX", "(e st)", ""] {
            var copy = word
            #expect(copy.withUTF8 { MailDate.zone($0) } == nil, "\(word)")
        }
    }

    @Test func whatIsNotADateIsNil() {
        #expect(MailDate.parse("yesterday") == nil)
        #expect(MailDate.parse("6 Dec 2026") == nil)  // no time
        #expect(MailDate.parse("6 Dec 2026 99999999999999999:00 +0000") == nil)
        #expect(MailDate.parse("6 Dec 2026 12:9223372036854775807 +0000") == nil)  // no overflow
    }
}
