import Testing
@testable import MIME

@Suite("Headers")
struct HeaderTests {
    /// Field names compare with ASCII letters in any case, as MTAs compare them; Unicode's
    /// case mapping does not make a look-alike name the real one.
    @Test func fieldNamesCompareInAnyASCIICaseOnly() {
        let m = parse(crlf("sUBJECT: one\nDKIM-SIGNATURE: real\nX-Ab: 2\nD\u{212A}IM-Signature: kelvin\n\nbody"))
        #expect(m.root.header("Subject")?.value == "one")
        #expect(m.root.headers(named: "dkim-signature").map(\.value) == ["real"])
        #expect(m.root.header("X-AB")?.value == "2")
        #expect(m.root.header("X-A") == nil && m.root.header("X-Abc") == nil)
    }

    @Test func foldedHeaderIsUnfoldedButRawKept() {
        let m = parse(crlf("Subject: hello\n\tworld\n  again\nX-A: 1\n\nbody"))
        let subject = m.root.header("subject")
        #expect(subject?.value == "hello\tworld  again")
        #expect(string(subject?.rawValue ?? []) == " hello\r\n\tworld\r\n  again")
        #expect(m.root.headers.count == 2)
        #expect(m.root.header("x-a")?.value == "1")
        // The field range covers the fold lines and the final CRLF.
        let r = subject!.range
        #expect(string(m.bytes[r]) == "Subject: hello\r\n\tworld\r\n  again\r\n")
        #expect(string(m.rawBody(of: m.root)) == "body")
    }

    @Test func encodedWordsBAndQ() {
        let m = parse(bytes("""
            Subject: =?UTF-8?B?w6lsw6h2ZQ==?= and =?ISO-8859-1?Q?caf=E9_cr=E8me?=
            X-Adjacent: =?utf-8?q?a?= \t =?utf-8?q?b?=
            X-Split: =?UTF-8?Q?=C3?= =?UTF-8?Q?=A9t=C3=A9?=
            X-Ascii: =?us-ascii?Q?plain_text?=
            X-1252: =?windows-1252?Q?=80_5?=
            X-Lang: =?utf-8*en?Q?hi?=

            x
            """))
        #expect(m.root.header("subject")?.value == "élève and café crème")
        #expect(m.root.header("x-adjacent")?.value == "ab")
        #expect(m.root.header("x-split")?.value == "été")
        #expect(m.root.header("x-ascii")?.value == "plain text")
        #expect(m.root.header("x-1252")?.value == "€ 5")
        #expect(m.root.header("x-lang")?.value == "hi")
        #expect(m.root.problems.isEmpty)
    }

    @Test func unknownCharsetIsLossyAndRecorded() {
        let m = parse(bytes("Subject: =?x-klingon?Q?abc=FF?= =?utf-8?B?!!!?=\n\nx"))
        let value = m.root.header("subject")?.value ?? ""
        #expect(value.hasPrefix("abc"))
        #expect(m.root.problems.contains(.unsupportedCharset("x-klingon")))
        #expect(m.root.problems.contains(.invalidEncodedWord))
    }

    @Test func malformedEncodedWordsStayLiteral() {
        let m = parse(bytes("Subject: =?utf-8?X?abc?= =?utf-8?Q?unterminated\n\nx"))
        #expect(m.root.header("subject")?.value == "=?utf-8?X?abc?= =?utf-8?Q?unterminated")
    }

    /// Values with `=` but no `=?` are taken as they are; one `=?` anywhere, even the last
    /// two bytes, sends the value through the word parser.
    @Test func equalsSignsAloneAreNotWordStarts() {
        for text in ["a=b", "a=", "=", "==", "x = ? y", "50%=off", "", "caf\u{E9}=?"] {
            #expect(EncodedWord.decode(Array(text.utf8)) == text, "\(text)")
        }
        #expect(EncodedWord.decode([0x3D, 0xE9]) == "=\u{E9}", "Latin-1 after an equals sign")
        #expect(EncodedWord.decode(Array("a==?utf-8?Q?b?=".utf8)) == "a=b")
    }

    @Test func raw8BitHeaders() {
        var b = bytes("Subject: caf")
        b.append(0xE9)  // Latin-1 é, not valid UTF-8
        b += bytes("\nX-Utf8: caf\u{E9}\n\nbody")
        let m = parse(b)
        #expect(m.root.header("subject")?.value == "café")
        #expect(m.root.header("x-utf8")?.value == "café")
        #expect(m.root.header("subject")?.rawValue == [0x20, 0x63, 0x61, 0x66, 0xE9])
    }

    @Test func rfc2231ContinuationWithCharset() throws {
        let m = parse(bytes("""
            Content-Type: application/pdf; name="fallback.pdf"
            Content-Disposition: attachment;
             filename*1="%20rates";
             filename*0*=utf-8''%E2%82%AC;
             filename*2*=%C3%A9.pdf
            Content-Transfer-Encoding: base64

            AAAA
            """))
        // Sections arrive out of order; only *-marked sections are percent-decoded.
        #expect(m.root.filename == "€%20rates\u{E9}.pdf")
        #expect(m.root.disposition?.kind == "attachment")
        #expect(m.root.contentType.name == "fallback.pdf")
    }

    @Test func rfc2231SingleExtendedLatin1AndLanguage() {
        let m = parse(bytes("Content-Type: text/plain; name*=iso-8859-1'fr'%E9t%E9.txt; name=\"plain.txt\"\n\nx"))
        // The RFC 2231 form wins over the plain one.
        #expect(m.root.filename == "été.txt")
    }

    @Test func rfc2047InFilenameAndNameFallback() {
        let m = parse(bytes("""
            Content-Type: multipart/mixed; boundary=XX

            --XX
            Content-Type: application/octet-stream; name="=?UTF-8?B?0YTQsNC50LsuZXhl?="

            data
            --XX
            Content-Type: application/zip
            Content-Disposition: attachment; filename="=?iso-8859-1?Q?r=E9sum=E9?=.zip"

            zip
            --XX--
            """))
        #expect(m.part(at: [1])?.filename == "файл.exe")
        #expect(m.part(at: [2])?.filename == "résumé.zip")
        #expect(m.part(at: [2])?.isAttachment == true)
    }

    @Test func quotedStringsAndSloppyParameters() {
        let m = parse(bytes("""
            Content-Type: multipart/mixed boundary="a;b"
            Content-Disposition: attachment; filename="C:\\dir\\x \\"y\\".txt"; size=12

            --a;b
            Content-Type: TEXT/Plain ; Charset = "UTF-8"

            hi
            --a;b--
            """))
        #expect(m.root.contentType.boundary == "a;b")
        #expect(m.root.kind == .multipart)
        #expect(m.root.disposition?.filename == "C:\\dir\\x \"y\".txt")
        #expect(m.root.disposition?.parameters["SIZE"] == "12")
        let child = m.part(at: [1])
        #expect(child?.mimeType == "text/plain")
        #expect(child?.contentType.charset == "UTF-8")
    }

    @Test func obsoleteSpaceBeforeColonAndMboxFromLine() {
        let m = parse(bytes("From someone@example.com Mon Jan  1 00:00:00 2024\nSubject : hi\n\nbody\n"))
        #expect(m.root.problems.isEmpty)
        #expect(m.root.header("subject")?.value == "hi")
        #expect(m.root.header("subject")?.name == "Subject")
        #expect(string(m.rawBody(of: m.root)) == "body\n")
    }

    @Test func malformedContentTypeFallsBackToTextPlain() {
        let m = parse(bytes("Content-Type: garbage\n\nbody"))
        #expect(m.root.mimeType == "text/plain")
        #expect(!m.root.hasExplicitContentType)
        #expect(m.root.problems.contains(.malformedContentType))
    }

    @Test func duplicateContentTypeUsesFirst() {
        let m = parse(bytes("Content-Type: text/html\nContent-Type: application/zip\n\nx"))
        #expect(m.root.mimeType == "text/html")
        #expect(m.root.problems.contains(.duplicateHeader("content-type")))
    }

    @Test func headerLimits() {
        let long = String(repeating: "x", count: 2000)
        let m = parse(bytes("Subject: \(long)\nX-B: 1\n\nbody"))
        #expect(m.root.problems.contains(.headerLineTooLong))
        #expect(m.root.header("x-b")?.value == "1")
        var many = ""
        for i in 0..<200 { many += "X-Field-\(i): \(String(repeating: "v", count: 50))\n" }
        let limited = parse(bytes(many + "\nbody"), limits: MIMELimits(maxHeaderBlockSize: 1000))
        #expect(limited.root.problems.contains(.headerBlockTooLarge))
        #expect(limited.root.headers.count < 20)
        // The body is still found after the unstored fields.
        #expect(string(limited.rawBody(of: limited.root)) == "body")
    }

    @Test func leadingContinuationLineIsMalformed() {
        let m = parse(bytes("   \nSubject: x\n\nbody"))
        #expect(m.root.problems == [.malformedHeader])
        #expect(m.root.header("subject")?.value == "x")
    }

    @Test func transferEncodingNames() {
        #expect(TransferEncoding(headerValue: " Base64 ") == .base64)
        #expect(TransferEncoding(headerValue: "\"quoted-printable\"") == .quotedPrintable)
        #expect(TransferEncoding(headerValue: "x-uuencode") == .uuencode)
        #expect(TransferEncoding(headerValue: "8bits") == .eightBit)
        #expect(TransferEncoding(headerValue: "x-gzip64") == .other("x-gzip64"))
    }
}
