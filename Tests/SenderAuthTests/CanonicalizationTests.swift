import Crypto
import Testing
@testable import SenderAuth

@Suite struct CanonicalizationTests {
    // RFC 6376 §3.4.6.
    static let example = Array("A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n".utf8)

    func header(_ canon: Canonicalization) -> String {
        let fields = MessageFields(Self.example)
        var out: [UInt8] = []
        for f in fields.fields { HeaderCanonicalizer.append(fields.bytes[f.range], colon: f.colon, canon, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    func body(_ canon: Canonicalization, _ bytes: [UInt8], limit: Int? = nil, pieces: Int = 1) -> [UInt8] {
        var hasher = BodyHasher(canon, limit: limit)
        let size = max(1, bytes.count / pieces)
        var i = 0
        while i < bytes.count { hasher.update(bytes[i..<min(i + size, bytes.count)]); i += size }
        return hasher.finish().digest
    }

    func sha(_ s: String) -> [UInt8] { Array(SHA256.hash(data: Array(s.utf8))) }

    @Test func rfc6376Example() {
        #expect(header(.relaxed) == "a:X\r\nb:Y Z\r\n")
        #expect(header(.simple) == "A: X\r\nB : Y\t\r\n\tZ  \r\n")
        let fields = MessageFields(Self.example)
        let bodyBytes = Array(fields.body)
        #expect(body(.relaxed, bodyBytes) == sha(" C\r\nD E\r\n"))
        #expect(body(.simple, bodyBytes) == sha(" C \r\nD \t E\r\n"))
    }

    @Test func emptyBodiesAndMissingFinalLineBreak() {
        #expect(body(.simple, []) == sha("\r\n"))
        #expect(body(.relaxed, []) == sha(""))
        #expect(body(.simple, Array("\r\n\r\n".utf8)) == sha("\r\n"))
        #expect(body(.relaxed, Array("x".utf8)) == sha("x\r\n"))
        #expect(body(.simple, Array("x\n\n".utf8)) == sha("x\r\n"))  // bare LF counts as CRLF
        #expect(body(.relaxed, Array(" \t \r\n".utf8)) == sha(""))
    }

    @Test func lengthLimitCutsTheCanonicalBody() {
        #expect(body(.relaxed, Array("Hello  world\r\nmore\r\n".utf8), limit: 5) == sha("Hello"))
        #expect(body(.simple, Array("ab\r\n".utf8), limit: 0) == sha(""))
    }

    @Test func everySplitGivesTheSameHash() {
        let text = Array("a \t b  \r\n\r\n\tc\r\rd \r\n \r\n\r\n".utf8)
        for canon in [Canonicalization.simple, .relaxed] {
            let whole = body(canon, text)
            for pieces in 2...text.count { #expect(body(canon, text, pieces: pieces) == whole) }
        }
    }

    @Test func canonicalizationPairs() {
        #expect(Canonicalization.pair(nil)! == (.simple, .simple))
        #expect(Canonicalization.pair("relaxed")! == (.relaxed, .simple))
        #expect(Canonicalization.pair("Relaxed/relaxed")! == (.relaxed, .relaxed))
        #expect(Canonicalization.pair("nowsp") == nil)
        #expect(Canonicalization.pair("simple/relaxed/x") == nil)
    }
}
