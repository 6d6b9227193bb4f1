import Testing
@testable import MIME

let nestedMessage = """
    From: a@example.com
    Subject: nested
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="outer"

    This is the preamble.
    --outer
    Content-Type: multipart/alternative; boundary="inner"

    --inner
    Content-Type: text/plain; charset=utf-8
    Content-Transfer-Encoding: quoted-printable

    Gr=C3=BC=C3=9Fe
    --inner
    Content-Type: text/html

    <p>hi</p>
    --inner--
    --outer
    Content-Type: application/octet-stream; name="a.bin"
    Content-Disposition: attachment; filename="report.pdf"
    Content-Transfer-Encoding: base64

    JVBERi0xLjQK
    --outer--
    This is the epilogue.

    """

@Suite("Structure")
struct StructureTests {
    @Test func nestedMultipartPathsTypesAndBodies() throws {
        for variant in [bytes(nestedMessage), crlf(nestedMessage)] {
            let m = parse(variant)
            #expect(m.root.kind == .multipart)
            #expect(m.allParts.map(\.path.description) == ["root", "1", "1.1", "1.2", "2"])
            #expect(m.leaves.map(\.mimeType) == ["text/plain", "text/html", "application/octet-stream"])
            let text = try #require(m.part(at: [1, 1]))
            #expect(m.text(of: text) == "Grüße")
            let html = try #require(m.part(at: [1, 2]))
            #expect(string(m.decodedBody(of: html)) == "<p>hi</p>")
            let pdf = try #require(m.part(at: [2]))
            #expect(pdf.filename == "report.pdf")
            #expect(string(m.decodedBody(of: pdf)) == "%PDF-1.4\n")
            #expect(pdf.decodedSize == 9)
            #expect(m.allProblems.isEmpty)
            var seen: [String] = []
            m.forEachLeaf { leaf, decoded in seen.append("\(leaf.path) \(leaf.filename ?? "-") \(decoded.count)") }
            #expect(seen == ["1.1 - 7", "1.2 - 9", "2 report.pdf 9"])
            let pre = try #require(m.root.preambleRange)
            #expect(string(m.bytes[pre]) == "This is the preamble.")
            let epi = try #require(m.root.epilogueRange)
            #expect(string(m.bytes[epi]).hasPrefix("This is the epilogue."))
            #expect(invariantViolations(m).isEmpty)
        }
    }

    @Test func mixedLineEndingsGiveSameStructure() {
        // Alternate CRLF and LF line by line.
        var mixed: [UInt8] = []
        for (i, line) in nestedMessage.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            mixed += bytes(String(line))
            mixed += i % 2 == 0 ? [0x0D, 0x0A] : [0x0A]
        }
        let m = parse(mixed)
        let reference = parse(bytes(nestedMessage))
        #expect(m.allParts.map(\.path) == reference.allParts.map(\.path))
        #expect(m.allParts.map(\.mimeType) == reference.allParts.map(\.mimeType))
        #expect(m.text(of: m.part(at: [1, 1])!) == "Grüße")
        #expect(string(m.decodedBody(of: m.part(at: [2])!)) == "%PDF-1.4\n")
        #expect(m.emit() == mixed)
    }

    @Test(arguments: [("abc", "abcd"), ("abcd", "abc"), ("=_x", "=_x_1")])
    func boundariesThatArePrefixesOfEachOther(outer: String, inner: String) throws {
        let m = parse(bytes("""
            Content-Type: multipart/mixed; boundary="\(outer)"

            --\(outer)
            Content-Type: multipart/mixed; boundary="\(inner)"

            --\(inner)

            inner one
            --\(inner)

            inner two
            --\(inner)--
            --\(outer)

            outer two
            --\(outer)--
            """))
        #expect(m.allParts.map(\.path.description) == ["root", "1", "1.1", "1.2", "2"])
        #expect(string(m.decodedBody(of: try #require(m.part(at: [1, 1])))) == "inner one")
        #expect(string(m.decodedBody(of: try #require(m.part(at: [1, 2])))) == "inner two")
        #expect(string(m.decodedBody(of: try #require(m.part(at: [2])))) == "outer two")
        #expect(m.allProblems.isEmpty)
    }

    @Test func missingFinalBoundaries() throws {
        // The inner multipart never closes; the outer delimiter still ends it.
        let m = parse(bytes("""
            Content-Type: multipart/mixed; boundary=outer

            --outer
            Content-Type: multipart/alternative; boundary=inner

            --inner

            one
            --outer

            two
            """))
        #expect(m.allParts.map(\.path.description) == ["root", "1", "1.1", "2"])
        #expect(m.root.problems == [.missingFinalBoundary])
        #expect(m.part(at: [1])?.problems == [.missingFinalBoundary])
        #expect(string(m.decodedBody(of: try #require(m.part(at: [1, 1])))) == "one")
        // Without a close delimiter the last part runs to the end of the message.
        #expect(string(m.decodedBody(of: try #require(m.part(at: [2])))) == "two")
        #expect(m.root.epilogueRange == nil)
    }

    @Test func wrongFinalBoundaryAndDataAfterIt() {
        let m = parse(bytes("""
            Content-Type: multipart/mixed; boundary=b

            --b

            one
            --c--
            --b--

            hidden?
            --b

            after close
            """))
        #expect(m.root.children.count == 1)
        #expect(string(m.decodedBody(of: m.part(at: [1])!)) == "one\n--c--")
        #expect(m.root.problems.contains(.dataAfterFinalBoundary))
        #expect(!m.root.problems.contains(.missingFinalBoundary))
    }

    @Test func delimiterLineWithTrailingWhitespaceAndEmptyParts() {
        let m = parse(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b \t\n--b\n\nsecond\n--b-- \n"))
        #expect(m.root.children.count == 2)
        #expect(m.part(at: [1])?.bodyRange.isEmpty == true)
        #expect(string(m.decodedBody(of: m.part(at: [2])!)) == "second")
        #expect(invariantViolations(m).isEmpty)
    }

    @Test func boundaryNeverFoundKeepsBodyAsLeaf() {
        let m = parse(bytes("Content-Type: multipart/mixed; boundary=zz\n\nno delimiters at all\n"))
        #expect(m.root.kind == .leaf)
        #expect(m.root.problems == [.boundaryNotFound])
        #expect(m.leaves.count == 1)
        let noParam = parse(bytes("Content-Type: multipart/mixed\n\n--x\n\nhi\n--x--\n"))
        #expect(noParam.root.kind == .leaf)
        #expect(noParam.root.problems == [.missingBoundaryParameter])
    }

    @Test func messageRFC822Nesting() throws {
        let m = parse(bytes("""
            Subject: outer
            Content-Type: multipart/mixed; boundary=o

            --o

            see attached
            --o
            Content-Type: message/rfc822

            Subject: =?utf-8?Q?inner_=E2=9C=93?=
            Content-Type: multipart/mixed; boundary=i

            --i
            Content-Type: text/plain

            inner text
            --i
            Content-Type: application/x-foo; name=x.foo
            Content-Transfer-Encoding: base64

            Zm9v
            --i--
            --o--
            """))
        let rfc822 = try #require(m.part(at: [2]))
        #expect(rfc822.kind == .message)
        let inner = try #require(rfc822.embeddedMessage)
        #expect(inner.path == [2, 0])
        #expect(inner.header("subject")?.value == "inner ✓")
        #expect(m.allParts.map(\.path.description) == ["root", "1", "2", "2.0", "2.0.1", "2.0.2"])
        #expect(string(m.decodedBody(of: try #require(m.part(at: [2, 0, 2])))) == "foo")
        #expect(m.part(at: [2, 0, 2])?.filename == "x.foo")
        #expect(PartPath("2.0.2") == [2, 0, 2])
        #expect(m.part(at: [2, 0, 2])?.path.description == "2.0.2")
    }

    @Test func digestDefaultsToMessageRFC822() {
        let m = parse(bytes("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody one\n--d--\n"))
        #expect(m.part(at: [1])?.mimeType == "message/rfc822")
        #expect(m.part(at: [1, 0])?.header("subject")?.value == "one")
    }

    @Test func encodedMessageRFC822IsLeaf() {
        let m = parse(bytes("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeAoKYm9keQo=\n"))
        #expect(m.root.kind == .leaf)
        #expect(m.root.problems == [.encodedEmbeddedMessage])
        #expect(string(m.decodedBody(of: m.root)) == "Subject: x\n\nbody\n")
        let inner = m.decodedEmbeddedMessage(of: m.root)
        #expect(inner?.root.header("subject")?.value == "x")
        #expect(inner.map { string($0.decodedBody(of: $0.root)) } == "body\n")
    }

    static func deepMessage(levels: Int) -> [UInt8] {
        var s = ""
        for i in 0..<levels { s += "Content-Type: multipart/mixed; boundary=b\(i)\n\n--b\(i)\n" }
        s += "Content-Type: text/plain\n\ndeepest\n"
        for i in (0..<levels).reversed() { s += "--b\(i)--\n" }
        return bytes(s)
    }

    @Test func depthLimit() throws {
        let b = Self.deepMessage(levels: 10)
        let m = parse(b, limits: MIMELimits(maxDepth: 4))
        let deepest = try #require(m.allParts.last)
        #expect(deepest.path == [1, 1, 1, 1])
        #expect(deepest.kind == .leaf)
        #expect(deepest.mimeType == "multipart/mixed")
        #expect(deepest.problems == [.depthLimitExceeded])
        #expect(m.allProblems.count == 1)
        // The opaque leaf still holds the deeper content for scanning.
        #expect(string(m.decodedBody(of: deepest)).contains("deepest"))
        #expect(m.emit() == b)

        let full = parse(b)
        #expect(full.allParts.count == 11)
        #expect(full.allProblems.isEmpty)
        #expect(full.leaves.first.map { string(full.decodedBody(of: $0)) } == "deepest")

        // Far deeper than the default limit: bounded, no crash.
        let hostile = parse(Self.deepMessage(levels: 3000))
        #expect(hostile.allParts.count == 33)
        #expect(hostile.allProblems.map(\.problem) == [.depthLimitExceeded])
    }

    @Test func depthLimitCountsMessageRFC822() {
        var s = ""
        for _ in 0..<6 { s += "Content-Type: message/rfc822\n\n" }
        s += "Subject: core\n\ncore\n"
        let m = parse(bytes(s), limits: MIMELimits(maxDepth: 3))
        #expect(m.allParts.count == 4)
        #expect(m.allParts.last?.path == [0, 0, 0])
        #expect(m.allParts.last?.problems == [.depthLimitExceeded])
    }

    @Test func partCountLimit() {
        var s = "Content-Type: multipart/mixed; boundary=b\n\n"
        for i in 0..<20 { s += "--b\n\npart \(i)\n" }
        s += "--b--\n"
        let m = parse(bytes(s), limits: MIMELimits(maxParts: 5))
        #expect(m.allParts.count == 5)
        #expect(m.root.children.count == 4)
        #expect(m.root.problems == [.partCountLimitExceeded])
        #expect(m.emit() == bytes(s))
        #expect(invariantViolations(m).isEmpty)
    }

    @Test func noBlankLineBetweenHeaderAndBody() {
        let m = parse(bytes("Subject: x\nFrom: a@b\nThis line starts the body.\nmore\n"))
        #expect(m.root.problems == [.missingHeaderBodySeparator])
        #expect(m.root.headers.count == 2)
        #expect(string(m.rawBody(of: m.root)) == "This line starts the body.\nmore\n")
        // In a body part with no header at all.
        let mp = parse(bytes("Content-Type: multipart/mixed; boundary=b\n\n--b\njust text\n--b--\n"))
        #expect(mp.part(at: [1])?.problems == [.missingHeaderBodySeparator])
        #expect(string(mp.decodedBody(of: mp.part(at: [1])!)) == "just text")
    }

    @Test func headerOnlyMessages() {
        for input in ["Subject: x\r\nFrom: a@b\r\n", "Subject: x\nFrom: a@b", "Subject: x\n\n", ""] {
            let m = parse(bytes(input))
            #expect(m.root.bodyRange.isEmpty, "\(input.debugDescription)")
            #expect(m.root.problems.isEmpty)
            #expect(m.emit() == bytes(input))
        }
        #expect(parse(bytes("Subject: x\nFrom: a@b")).root.headers.count == 2)
    }

    @Test func inlineUUEncodeInTextPlain() throws {
        let text = "Here is the file:\n\nbegin 644 cat.txt\n#0V%T\n`\nend\nbye\n"
        let m = parse(bytes("Subject: uu\n\n" + text))
        #expect(m.root.kind == .leaf)
        let block = try #require(m.part(at: [1]))
        #expect(block.kind == .uuencodedBlock)
        #expect(block.filename == "cat.txt")
        #expect(block.transferEncoding == .uuencode)
        #expect(string(m.decodedBody(of: block)) == "Cat")
        #expect(block.decodedSize == 3)
        #expect(string(m.rawBody(of: block)) == "begin 644 cat.txt\n#0V%T\n`\nend\n")
        // The text part itself is unchanged, and both are leaves.
        #expect(string(m.decodedBody(of: m.root)) == text)
        #expect(m.leaves.map(\.path) == [.root, [1]])
        // Prose that merely starts with "begin" is not a block.
        #expect(parse(bytes("\nbegin 644 is how you start\nthe sentence\n")).root.children.isEmpty)
    }

    @Test func uuencodeTransferEncoding() throws {
        let m = parse(bytes("""
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: application/octet-stream
            Content-Transfer-Encoding: x-uuencode

            begin 600 data.bin
            #0V%T
            `
            end
            --b--
            """))
        let part = try #require(m.part(at: [1]))
        #expect(part.filename == "data.bin")
        #expect(string(m.decodedBody(of: part)) == "Cat")
        #expect(part.problems.isEmpty)
    }

    @Test func brokenBase64LineLengthsInPart() throws {
        let m = parse(crlf("""
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: application/octet-stream
            Content-Transfer-Encoding: base64

            SGVsbG8sIHdvcmxkIQ
            ==
            U2Vjb25k IGxpbmU=
            ###
            --b--
            """))
        let part = try #require(m.part(at: [1]))
        #expect(string(m.decodedBody(of: part)) == "Hello, world!Second line")
        #expect(part.problems == [.invalidBase64])
        #expect(part.decodedSize == 24)
    }

    @Test func longBodyLinesAreRecorded() {
        let m = parse(bytes("Subject: x\n\n" + String(repeating: "a", count: 999) + "\nshort\n"))
        #expect(m.root.problems == [.lineTooLong])
        let ok = parse(crlf("Subject: x\n\n" + String(repeating: "a", count: 998) + "\nshort\n"))
        #expect(ok.root.problems.isEmpty)
    }

    /// The limit's edges: the CR of a CRLF is not part of the line; any other 999th byte is,
    /// on every line, the first, a middle one and the last without its line end.
    @Test func longLineLimitCountsEveryByteButTheCRBeforeLF() {
        let limit = String(repeating: "a", count: 998)
        func problems(_ body: String) -> [MIMEProblem] { parse(bytes("Subject: x\r\n\r\n" + body)).root.problems }
        #expect(problems(limit + "\r\n" + limit + "\r\n").isEmpty)
        #expect(problems(limit + "\r\n" + limit).isEmpty, "the last line without its line end")
        #expect(problems(limit + "\r").isEmpty, "a CR at the very end")
        #expect(problems("short\r\n" + limit + "b\r\nshort\r\n") == [.lineTooLong], "999 bytes before the CRLF")
        #expect(problems("short\n" + limit + "\r\r\n") == [.lineTooLong], "a CR that does not end the line counts")
        #expect(problems("short\r\n" + limit + "b") == [.lineTooLong], "the last line, without its line end")
        #expect(problems(String(repeating: "x\r\n", count: 400) + limit + "\rb\n") == [.lineTooLong])
    }
}
