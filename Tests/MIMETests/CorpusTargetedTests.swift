import Testing
@testable import MIME

/// Assertions on specific corpus messages; expected values were checked by reading the files.
@Suite("Corpus, targeted")
struct CorpusTargetedTests {
    func load(_ path: String, limits: MIMELimits = MIMELimits()) throws -> MIMEMessage {
        let data = try Corpus.load(path)
        let m = parse(data, limits: limits)
        #expect(m.emit() == data)
        #expect(invariantViolations(m).isEmpty)
        return m
    }

    @Test(arguments: ["UTF8", "Latin1"])
    func rfc2231FilenameCharsets(variant: String) throws {
        // filename*=UTF-8''attachment.%C3%A4... / ISO-8859-1''attachment.%E4...
        let m = try load("james-mime4j/mimetools-testmsgs/attachment-filename-encoding-\(variant).msg")
        let part = try #require(m.part(at: [2]))
        #expect(part.filename == "attachment.äöü")
        #expect(string(m.decodedBody(of: part)) == "Test\n")
        #expect(m.allProblems.isEmpty)
    }

    @Test func rfc2231LongJapaneseFilenameAndSubject() throws {
        let m = try load("mikel-mail/emails/multi_charset/japanese_attachment_long_name.eml")
        #expect(m.root.header("subject")?.value == String(repeating: "まみむめも", count: 10))
        let part = try #require(m.part(at: [1]))
        #expect(part.filename == String(repeating: "かきくけこ", count: 5) + ".txt")
        #expect(string(m.decodedBody(of: part)) == "this is the data\r\n")
    }

    @Test func rfc2047Subject() throws {
        let m = try load("flanker/bilingual-simple.eml")
        #expect(m.root.header("subject")?.value == "Simple text. How are you? Как ты поживаешь?")
        #expect(m.text(of: m.root)?.contains("А эта линия по-русск") == true)
    }

    @Test func manyEncodedWordsInOneHeader() throws {
        let m = try load("mimekit/messages/stack-overflow.txt")
        let to = try #require(m.root.header("to")).value
        #expect(to.hasPrefix("\"test\" <test@test.com>,"))
        #expect(to.contains("date>2017-08-20T10:08:28.617</pr"))
        #expect(!to.contains("=?utf-8?"))
    }

    @Test func inlineUUEncodedGIFs() throws {
        let m = try load("james-mime4j/mimetools-testmsgs/uu-zeegee.msg")
        let blocks = m.root.children
        #expect(blocks.map(\.filename) == ["up.gif", "zeegee.gif"])
        #expect(blocks.map(\.kind) == [.uuencodedBlock, .uuencodedBlock])
        let up = m.decodedBody(of: blocks[0])
        let zeegee = m.decodedBody(of: blocks[1])
        #expect(up.count == 110)
        #expect(zeegee.count == 4834)
        #expect(up.starts(with: bytes("GIF87a")) && zeegee.starts(with: bytes("GIF87a")))
        #expect(up.last == 0x3B && zeegee.last == 0x3B)  // GIF trailer
        #expect(blocks.allSatisfy { $0.problems.isEmpty })
    }

    @Test func inlineUUEncodedPNGsFromOutlook() throws {
        let m = try load("zbateson-hunnysoft/m0018.txt")
        #expect(m.leaves.compactMap(\.filename) == ["blueball.png", "greenball.png", "redball.png"])
        for block in m.root.children {
            #expect(m.decodedBody(of: block).starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        }
        #expect(m.text(of: m.root)?.contains("The Hare and the Tortoise") == true)
    }

    @Test func uuencodedSignature() throws {
        let m = try load("james-mime4j/mimetools-testmsgs/sig-uu.msg")
        let block = try #require(m.part(at: [1]))
        #expect(block.filename == ".signature")
        #expect(string(m.decodedBody(of: block)).contains("Eryq (eryq@zeegee.com)"))
    }

    @Test func mimeTortureNestedMessages() throws {
        let m = try load("postal-mime/mimetorture.eml")
        #expect(m.root.header("subject")?.value == "Ryan Finnie's MIME Torture Test v1.0")
        #expect(m.allParts.count == 49)
        #expect(m.allProblems.isEmpty)
        let inner = try #require(m.part(at: [3, 0, 2, 0]))
        #expect(inner.header("subject")?.value == "the original message")
        let gz = try #require(m.part(at: [3, 0, 2, 0, 2]))
        #expect(gz.filename == "foo.gz")
        #expect(m.decodedBody(of: gz).starts(with: [0x1F, 0x8B]))
        let png = try #require(m.part(at: [10, 0, 1, 1, 2]))
        #expect(png.filename == "smiley-3.png")
        #expect(png.mimeType == "image/png")
        #expect(m.decodedBody(of: png).starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(m.part(at: [10, 0])?.mimeType == "multipart/signed")
        #expect(m.part(at: [10, 0, 2])?.filename == "signature.asc")
        #expect(m.allParts.map(\.path.depth).max() == 6)
    }

    @Test func rfc2060PartSpecifiers() throws {
        // Every leaf says which IMAP part specifier it is; ours equals it once the
        // `0` components (message/rfc822 encapsulation) are dropped.
        let m = try load("mimekit/messages/rfc2060.txt")
        var checked = 0
        for leaf in m.leaves {
            let text = string(m.decodedBody(of: leaf))
            let prefix = "This part specifier should be: "
            guard let r = text.firstRange(of: prefix) else { continue }
            let spec = text[r.upperBound...].prefix { $0 != "\n" }
            let imap = leaf.path.components.filter { $0 != 0 }.map(String.init).joined(separator: ".")
            #expect(imap == String(spec))
            checked += 1
        }
        #expect(checked == 8)
        #expect(m.part(at: [4])?.problems == [.missingFinalBoundary])
    }

    @Test func mixedLineEndings() throws {
        let m = try load("flanker/dashed-boundaries.eml")
        #expect(m.root.children.count == 2)
        #expect(string(m.decodedBody(of: m.root.children[0])) == "Hi\n")
        #expect(string(m.decodedBody(of: m.root.children[1])) == "<html><body>Hi</body></html>\r\n")
    }

    @Test func noBodySeparator() throws {
        let noHeader = try load("james-mime4j/testmsgs/malformedHeaderStartsBody-noheader.msg")
        #expect(noHeader.root.headers.isEmpty)
        #expect(noHeader.root.problems == [.missingHeaderBodySeparator])
        #expect(string(noHeader.decodedBody(of: noHeader.root)).hasPrefix("This is a simple message not having headers."))
        let msg35 = try load("cpython-email/msg_35.txt")
        #expect(msg35.root.header("subject")?.value == "here's something interesting")
        #expect(msg35.root.problems == [.missingHeaderBodySeparator])
        #expect(string(msg35.decodedBody(of: msg35.root)).hasPrefix("counter to RFC 2822, there's no separating newline here"))
    }

    @Test func thousandsOfPartsAndPartLimit() throws {
        let full = try load("flanker/enclosed-endless.eml")
        #expect(full.allParts.count == 3043)
        let limited = try load("flanker/enclosed-endless.eml", limits: MIMELimits(maxParts: 100))
        #expect(limited.allParts.count == 100)
        #expect(limited.allProblems.contains { $0.problem == .partCountLimitExceeded })
    }

    @Test func crispinTortureTestAndDepthLimit() throws {
        let m = try load("flanker/torture.eml")
        #expect(m.allParts.count == 52)
        #expect(m.allParts.map(\.path.depth).max() == 6)
        let shallow = try load("flanker/torture.eml", limits: MIMELimits(maxDepth: 3))
        #expect(shallow.allProblems.contains { $0.problem == .depthLimitExceeded })
        #expect(shallow.allParts.map(\.path.depth).max() == 3)
    }
}
