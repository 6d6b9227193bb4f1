import Testing
@testable import MIME

@Suite("Writer")
struct WriterTests {
    let original = crlf(nestedMessage)

    @Test func untouchedTreeIsByteIdentical() {
        for input in [original, bytes(nestedMessage), bytes("no header at all"), []] {
            let m = parse(input)
            #expect(m.emit() == input)
            #expect(MessageWriter.emit(original: input, tree: m.root, replacements: [:]) == input)
            #expect(reassemble(m) == input)
        }
    }

    @Test func replacingABodyChangesOnlyThatRange() throws {
        let m = parse(original)
        let pdf = try #require(m.part(at: [2]))
        let out = m.emit(replacing: [[2]: .body(bytes("new content"))])
        let encoded = Base64Encoder.encode(bytes("new content"), lineEnding: [0x0D, 0x0A])
        #expect(out == Array(original[..<pdf.bodyRange.lowerBound]) + encoded + Array(original[pdf.bodyRange.upperBound...]))
        let again = parse(out)
        #expect(string(again.decodedBody(of: try #require(again.part(at: [2])))) == "new content")
        #expect(again.part(at: [2])?.filename == "report.pdf")
        #expect(again.text(of: try #require(again.part(at: [1, 1]))) == "Grüße")
        #expect(again.allProblems.isEmpty)
    }

    @Test func quotedPrintableBodyIsReencoded() throws {
        let m = parse(original)
        let out = m.emit(replacing: [[1, 1]: .body(Array("naïve = ok\r\nline two".utf8))])
        let again = parse(out)
        #expect(again.text(of: try #require(again.part(at: [1, 1]))) == "naïve = ok\r\nline two")
        #expect(again.allParts.map(\.path) == m.allParts.map(\.path))
    }

    @Test func removingAPartRemovesItsDelimiter() throws {
        let m = parse(original)
        let out = m.emit(replacing: [[1]: .remove])
        let again = parse(out)
        #expect(again.allParts.map(\.path.description) == ["root", "1"])
        #expect(again.part(at: [1])?.filename == "report.pdf")
        #expect(string(again.decodedBody(of: try #require(again.part(at: [1])))) == "%PDF-1.4\n")
        #expect(again.allProblems.isEmpty)
        let part = try #require(m.part(at: [1]))
        let cut = try #require(part.delimiterRange).lowerBound..<part.range.upperBound
        #expect(out == Array(original[..<cut.lowerBound]) + Array(original[cut.upperBound...]))

        let removeLast = parse(m.emit(replacing: [[2]: .remove]))
        #expect(removeLast.allParts.map(\.path.description) == ["root", "1", "1.1", "1.2"])
        #expect(removeLast.allProblems.isEmpty)
        #expect(removeLast.root.epilogueRange.map { string(removeLast.bytes[$0]) }?.hasPrefix("This is the epilogue.") == true)
    }

    @Test func replacingAnAttachmentByATextPart() throws {
        let m = parse(original)
        let out = m.emit(replacing: [[2]: .textPart("The attachment report.pdf was removed.\n")])
        let again = parse(out)
        let note = try #require(again.part(at: [2]))
        #expect(note.mimeType == "text/plain")
        #expect(note.filename == nil)
        #expect(again.text(of: note) == "The attachment report.pdf was removed.\r\n")
        #expect(again.allProblems.isEmpty)
        // Everything before the part is untouched.
        #expect(Array(out[..<m.part(at: [2])!.range.lowerBound]) == Array(original[..<m.part(at: [2])!.range.lowerBound]))
        #expect(out.suffix(30) == original.suffix(30))
    }

    @Test func replacingTheRootKeepsNonContentHeaders() throws {
        let m = parse(original)
        let out = m.emit(replacing: [.root: .textPart("Blocked: contained malware ✗")])
        let again = parse(out)
        #expect(again.root.kind == .leaf)
        #expect(again.root.header("subject")?.value == "nested")
        #expect(again.root.header("from")?.value == "a@example.com")
        #expect(again.root.headers(named: "content-type").count == 1)
        #expect(again.root.transferEncoding == .base64)
        #expect(again.text(of: again.root) == "Blocked: contained malware ✗")
    }

    @Test func rawReplacementsAndAncestorWins() throws {
        let m = parse(original)
        let entity = crlf("Content-Type: text/plain\n\nreplaced")
        let out = m.emit(replacing: [[1]: .rawEntity(entity), [1, 1]: .remove])
        let again = parse(out)
        #expect(again.allParts.map(\.path.description) == ["root", "1", "2"])
        #expect(string(again.decodedBody(of: again.part(at: [1])!)) == "replaced")
        let raw = parse(m.emit(replacing: [[1, 2]: .rawBody(bytes("<b>x</b>"))]))
        #expect(string(raw.decodedBody(of: raw.part(at: [1, 2])!)) == "<b>x</b>")
    }

    @Test func replacementInsideEmbeddedMessageAndUUBlock() throws {
        let input = bytes("""
            Content-Type: multipart/mixed; boundary=o

            --o
            Content-Type: message/rfc822

            Subject: inner

            begin 644 evil.exe
            #0V%T
            `
            end
            after
            --o--

            """)
        let m = parse(input)
        let block = try #require(m.part(at: [1, 0, 1]))
        #expect(block.kind == .uuencodedBlock)
        #expect(block.filename == "evil.exe")
        let removed = parse(m.emit(replacing: [[1, 0, 1]: .remove]))
        #expect(removed.part(at: [1, 0])?.children.isEmpty == true)
        #expect(string(removed.decodedBody(of: removed.part(at: [1, 0])!)) == "after")
        let noted = parse(m.emit(replacing: [[1, 0, 1]: .textPart("[evil.exe removed]")]))
        #expect(string(noted.decodedBody(of: noted.part(at: [1, 0])!)) == "[evil.exe removed]\nafter")
        let swapped = parse(m.emit(replacing: [[1, 0, 1]: .body(bytes("Dog"))]))
        #expect(string(swapped.decodedBody(of: try #require(swapped.part(at: [1, 0, 1])))) == "Dog")
        #expect(swapped.part(at: [1, 0, 1])?.filename == "evil.exe")
        let emptied = parse(m.emit(replacing: [[1, 0]: .remove]))
        #expect(emptied.part(at: [1])?.bodyRange.isEmpty == true)
    }

    @Test func everyLeafOfACorpusMessageCanBeReplacedInIsolation() throws {
        let data = try Corpus.load("postal-mime/mimetorture.eml")
        let m = parse(data)
        for leaf in m.leaves {
            let marker = bytes("MARKER-\(leaf.path)")
            let out = m.emit(replacing: [leaf.path: .rawBody(marker)])
            #expect(out == Array(data[..<leaf.bodyRange.lowerBound]) + marker + Array(data[leaf.bodyRange.upperBound...]))
            let again = parse(out)
            let replaced = try #require(again.part(at: leaf.path))
            #expect(again.rawBody(of: replaced).elementsEqual(marker), "\(leaf.path)")
            #expect(again.allParts.map(\.path) == m.allParts.map(\.path), "\(leaf.path)")
        }
    }
}
