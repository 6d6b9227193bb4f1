import Testing
@testable import MIME

@Suite("Incremental feeding")
struct IncrementalTests {
    static func feed(_ data: [UInt8], cuts: [Int]) -> MIMEMessage {
        var parser = MessageParser()
        var start = 0
        for cut in cuts.sorted() where cut >= start && cut <= data.count {
            parser.feed(data[start..<cut])
            start = cut
        }
        parser.feed(data[start...])
        return parser.finish()
    }

    static func check(_ data: [UInt8], everySplit: Bool, randomSplits: Int, seed: UInt64) {
        let whole = parse(data)
        var byteByByte = MessageParser()
        for b in data { byteByByte.feed([b]) }
        let bytewise = byteByByte.finish()
        #expect(bytewise.root == whole.root)
        #expect(bytewise.bytes == data)
        if everySplit {
            for cut in 0...data.count {
                let m = feed(data, cuts: [cut])
                #expect(m.root == whole.root, "split at \(cut)")
            }
        }
        var rng = SplitMix64(seed: seed)
        for _ in 0..<randomSplits {
            let n = Int.random(in: 1...20, using: &rng)
            let cuts = (0..<n).map { _ in Int.random(in: 0...data.count, using: &rng) }
            let m = feed(data, cuts: cuts)
            #expect(m.root == whole.root, "cuts \(cuts)")
            #expect(m.emit() == data)
        }
    }

    @Test func handWrittenMessagesEverySplit() {
        for (i, text) in [nestedMessage, "Subject: x\n\nbegin 644 a\n#0V%T\n`\nend\n", "Subject: header only"].enumerated() {
            Self.check(bytes(text), everySplit: true, randomSplits: 50, seed: UInt64(i))
            Self.check(crlf(text), everySplit: true, randomSplits: 50, seed: UInt64(i) + 100)
        }
    }

    @Test(arguments: [
        "postal-mime/mimetorture.eml",
        "james-mime4j/mimetools-testmsgs/uu-zeegee.msg",
        "flanker/dashed-boundaries.eml",
        "cpython-email/msg_02.txt",
        "enmime-testdata/mail/qp-utf8-header.raw",
    ])
    func corpusMessagesRandomSplits(path: String) throws {
        let data = try Corpus.load(path)
        Self.check(data, everySplit: data.count < 3000, randomSplits: 30, seed: UInt64(data.count))
    }

    @Test func parserIsReusableAfterFinish() {
        var parser = MessageParser()
        parser.feed(bytes("Subject: one\n\n1"))
        let first = parser.finish()
        #expect(parser.bufferedByteCount == 0)
        parser.feed(bytes("Subject: two\n\n2"))
        let second = parser.finish()
        #expect(first.root.header("subject")?.value == "one")
        #expect(second.root.header("subject")?.value == "two")
    }
}
