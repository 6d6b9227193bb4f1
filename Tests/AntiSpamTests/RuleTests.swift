import Foundation
import MIME
import Testing
@testable import AntiSpam

/// Each heuristic rule fires on the mail it describes and stays quiet on ordinary mail.
struct RuleTests {
    let engine = try! SpamEngine(store: nil)

    func names(_ m: MIMEMessage) -> Set<String> { Set(engine.check(m).symbols.map(\.name)) }

    @Test func ordinaryMailHasNoFindings() {
        let r = engine.check(TestMessages.plain(body: "Hi Bob, the notes from today are below. See you Friday."))
        #expect(r.symbols.filter { $0.score > 0 }.isEmpty)
        #expect(!r.isSpam)
        #expect(r.totalSpamScore < 0.001)
    }

    @Test func gtubeIsAlwaysSpam() {
        let r = engine.check(TestMessages.plain(
            body: "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"))
        #expect(r.symbols.first?.name == "GTUBE")
        #expect(r.isSpam)
        #expect(r.totalSpamScore == 1.0)
    }

    @Test func gtubeIsFoundInABase64Body() {
        let body = Data("GTUBE: XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n".utf8).base64EncodedString()
        let m = TestMessages.parse("""
            From: a@example.org
            Subject: t
            Content-Type: text/plain
            Content-Transfer-Encoding: base64

            \(body)
            """)
        #expect(names(m).contains("GTUBE"))
    }

    @Test func missingHeadersAreFindings() {
        let m = TestMessages.parse("""
            From: someone
            Subject: hello

            text
            """)
        #expect(names(m).isSuperset(of: ["MISSING_DATE", "MISSING_MID", "FROM_NO_ADDRESS"]))
    }

    @Test func dateIsJudgedAgainstTheReceivedTime() {
        let received = "Received: from a.example.org by mx.example.net; Mon, 2 Nov 2026 10:05:00 +0000\n"
        let future = TestMessages.parse(received + """
            From: a@example.org
            Date: Sat, 2 Jan 2027 10:00:00 +0000
            Message-ID: <x@example.org>
            Subject: s

            b
            """)
        #expect(names(future).contains("DATE_IN_FUTURE"))
        // Old mail read years later: the Received time is what counts, not today.
        let old = TestMessages.parse("""
            Received: from a.example.org by mx.example.net; Thu, 22 Aug 2002 10:05:00 +0000
            From: a@example.org
            Date: Thu, 22 Aug 2002 09:00:00 -0000
            Message-ID: <x@example.org>
            Subject: s

            b
            """)
        #expect(names(old).isDisjoint(with: ["DATE_IN_FUTURE", "DATE_IN_PAST"]))
    }

    @Test func shoutingAndObfuscatedSubjects() {
        #expect(names(TestMessages.plain(subject: "GET YOUR FREE PRIZE NOW", body: "x")).contains("SUBJ_ALL_CAPS"))
        #expect(names(TestMessages.plain(subject: "ÉNORME PROMOTION GRATUITE ÉTÉ", body: "x")).contains("SUBJ_ALL_CAPS"))
        #expect(!names(TestMessages.plain(subject: "ÉNORME promotion gratuite été", body: "x")).contains("SUBJ_ALL_CAPS"))
        #expect(names(TestMessages.plain(subject: "Cheap V-I-A-G-R-A here", body: "x")).contains("SUBJ_OBFUSCATED"))
        // Cyrillic "а" (U+0430) inside a Latin word.
        #expect(names(TestMessages.plain(subject: "Your p\u{0430}ypal account", body: "x")).contains("SUBJ_OBFUSCATED"))
        #expect(names(TestMessages.plain(subject: "Re: e-mail re-sent, see F.A.Q.", body: "x")).isDisjoint(with: ["SUBJ_OBFUSCATED", "SUBJ_ALL_CAPS"]))
    }

    @Test func linkTricks() {
        let m = TestMessages.html("""
            <p>Visit <a href="http://203.0.113.9/login">www.mybank.example</a>,
            <a href="https://bit.ly/abc">here</a>, <a href="http://xn--pypal-4ve.example/">pay</a>,
            <a href="http://www.mybank.example@evil.example/">account</a></p>
            """)
        #expect(names(m).isSuperset(of: ["URL_HOST_MISMATCH", "URL_IP_LITERAL", "URL_SHORTENER", "URL_PUNYCODE", "URL_USERINFO"]))
        let honest = TestMessages.html("<p>See <a href=\"https://www.example.org/a\">www.example.org</a> for more text here.</p>")
        #expect(names(honest).isDisjoint(with: ["URL_HOST_MISMATCH", "URL_IP_LITERAL", "URL_USERINFO"]))
    }

    @Test func htmlOnlyAndImageOnly() {
        let n = names(TestMessages.html("<img src=\"cid:1\"><p>click</p>"))
        #expect(n.isSuperset(of: ["MIME_HTML_ONLY", "HTML_IMAGE_ONLY"]))
        // Twenty words of text beside the image are a message, not an image-only one.
        let words = (1...20).map { "word\($0)" }
        let worded = names(TestMessages.html("<img src=\"cid:1\"><p>\(words.joined(separator: " "))</p>"))
        #expect(worded.contains("MIME_HTML_ONLY") && !worded.contains("HTML_IMAGE_ONLY"))
        let fewer = names(TestMessages.html("<img src=\"cid:1\"><p>\(words.dropLast().joined(separator: " "))</p>"))
        #expect(fewer.contains("HTML_IMAGE_ONLY"))
    }

    @Test func wordsAreCountedAcrossPartsUpToTheNumberWanted() {
        #expect(MIMERules.hasWords(3, in: ["one two", "  three "]))
        #expect(!MIMERules.hasWords(3, in: ["one  two\n\n", ""]))
        #expect(MIMERules.hasWords(2, in: ["one\ntwo"]) && MIMERules.hasWords(2, in: ["one\r\ntwo"]))
        #expect(!MIMERules.hasWords(1, in: [" \n \r\n\t"]), "white space only")
    }

    @Test func base64EncodedASCIITextIsAFinding() {
        let body = Data(String(repeating: "Plain English words need no base64 at all. ", count: 5).utf8).base64EncodedString()
        let m = TestMessages.parse("""
            From: a@example.org
            Subject: t
            Date: \(TestMessages.recentDate)
            Message-ID: <b@example.org>
            Content-Type: text/plain; charset=us-ascii
            Content-Transfer-Encoding: base64

            \(body)
            """)
        #expect(names(m).contains("MIME_BASE64_TEXT"))
    }

    @Test func executableAndDoubleExtensionAttachments() {
        func withAttachment(_ name: String) -> MIMEMessage {
            TestMessages.parse("""
                From: a@example.org
                Subject: invoice
                Date: \(TestMessages.recentDate)
                Message-ID: <c@example.org>
                Content-Type: multipart/mixed; boundary=XX

                --XX
                Content-Type: text/plain

                see attached
                --XX
                Content-Type: application/octet-stream
                Content-Disposition: attachment; filename="\(name)"
                Content-Transfer-Encoding: base64

                TVqQAAMAAAAEAAAA
                --XX--
                """)
        }
        #expect(names(withAttachment("invoice.pdf.exe")).contains("ATTACH_DOUBLE_EXT"))
        #expect(names(withAttachment("setup.exe")).contains("ATTACH_EXECUTABLE"))
        #expect(names(withAttachment("report.pdf")).isDisjoint(with: ["ATTACH_EXECUTABLE", "ATTACH_DOUBLE_EXT"]))
    }

    @Test func symbolsComeHighestFirstAndAddUpToThePoints() {
        let r = engine.check(TestMessages.parse("""
            From: nobody
            Subject: FREE MONEY FOR YOU TODAY!!

            <html><body><img src=x></body></html>
            """))
        #expect(r.symbols.map(\.score) == r.symbols.map(\.score).sorted(by: >))
        #expect(abs(r.points - r.symbols.reduce(0) { $0 + $1.score }) < 1e-9)
        #expect(r.statisticsNote?.contains("0 spam and 0 ham learned") == true)
    }

    /// The ASCII shortcut of the subject rules answers as Unicode's tables do, for every ASCII scalar.
    @Test func theASCIIShortcutAgreesWithUnicode() {
        for value in 0..<128 {
            let scalar = Unicode.Scalar(UInt8(value))
            #expect(SubjectRules.isAlphabetic(scalar) == scalar.properties.isAlphabetic, "\(value)")
            #expect(SubjectRules.isUppercase(scalar) == scalar.properties.isUppercase, "\(value)")
        }
    }

    /// An ASCII subject is read on its bytes; a non-ASCII word anywhere sends it through the
    /// Character-wise path, and that word alone cannot make it obfuscated: both must agree.
    @Test func asciiSubjectsAreReadAsCharactersWouldBe() {
        let alphabet: [Character] = ["a", "B", "c", "-", ".", "-", "\n", "1", "'", " ", "\t"]
        // A fixed linear congruential sequence, so a failure repeats.
        var state: UInt64 = 19
        func next() -> Int { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return Int(state >> 33) }
        var found = 0, disagreements: [String] = []
        for _ in 0..<30_000 {
            let length = next() % 14 + 7
            let subject = String((0..<length).map { _ in alphabet[next() % alphabet.count] })
            let byBytes = SubjectRules.isObfuscated(subject)
            if byBytes { found += 1 }
            if byBytes != SubjectRules.isObfuscated(subject + " é") { disagreements.append(subject) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(found > 50, "the sample holds obfuscated subjects")
        #expect(SubjectRules.isObfuscated("x\r\nb-c-d-e") == SubjectRules.isObfuscated("x\r\nb-c-d-e é"), "a CR")
    }
}

