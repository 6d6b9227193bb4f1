import Testing
@testable import AntiSpam

/// Links as the URL rules see them: the host lowered, without userinfo, port or dots around it.
struct MessageURLTests {
    @Test func theHostIsLoweredWithoutUserinfoPortOrOuterDots() {
        let url = MessageURL("HTTPS://Bank.Example@EVIL.Example.:8080/login?Token=AbC")
        #expect(url?.host == "evil.example" && url?.hasUserInfo == true)
        #expect(MessageURL("  www.Example.COM./x  ")?.host == "www.example.com")
        #expect(MessageURL("http://..a.b..")?.host == "a.b")
        #expect(MessageURL("Http://192.0.2.7/")?.isIPLiteral == true)
        #expect(MessageURL("http://xn--80ak6aa92e.com/")?.isPunycode == true)
        #expect(MessageURL("http://mail.xn--80ak6aa92e.com/")?.isPunycode == true)
        #expect(MessageURL("http://axn--b.com/")?.isPunycode == false)
        #expect(MessageURL("http://example.com/xn--/")?.isPunycode == false)
        #expect(MessageURL("http://example.xn-/")?.isPunycode == false)
    }

    /// The authority ends at the first delimiter, whatever follows it; userinfo is everything up
    /// to the last `@` before that end, and a port only outside brackets.
    @Test func theAuthorityEndsAtItsFirstDelimiter() {
        #expect(MessageURL("http://a.example\\@b.example/")?.host == "a.example", "a backslash ends it, as browsers read it")
        #expect(MessageURL("http://a.example?u=x@b.example")?.host == "a.example")
        #expect(MessageURL("http://a.example#@b.example")?.hasUserInfo == false)
        #expect(MessageURL("http://u@a.example\r\n@b")?.host == "a.example")
        #expect(MessageURL("http://u:p@[2001:db8::1]:443/")?.host == "[2001:db8::1]:443", "a bracketed host is kept whole, port too: an IP literal either way")
        #expect(MessageURL("http://Ünïcode.Example/")?.host == "ünïcode.example")
        #expect(MessageURL("http://user@/x")?.host == "" && MessageURL("http://user@/x")?.hasUserInfo == true)
        #expect(MessageURL("https://")?.host == "")
    }

    @Test func onlyWebLinksAreLinks() {
        #expect(MessageURL("ftp://example.com/") == nil)
        #expect(MessageURL("mailto:a@example.com") == nil)
        #expect(MessageURL("htt") == nil)
        #expect(MessageURL("") == nil)
    }

    @Test func aLongLinkKeepsItsFirst2048Characters() {
        let long = "https://example.com/?q=" + String(repeating: "A", count: 5000)
        let url = MessageURL(long)
        #expect(url?.host == "example.com" && url?.raw.count == 2048)
    }
}

/// Links in plain text, found by the byte scanner, are those the plain walk (every byte tested
/// as a start) finds, on generated text made of link pieces.
struct PlainTextLinksTests {
    static func reference(_ text: String, limit: Int) -> [MessageURL] {
        var out: [MessageURL] = []
        let b = Array(text.utf8)
        func lowerAt(_ j: Int) -> UInt8 { j < b.count ? (b[j] | 0x20) : 0 }
        func startsLink(_ i: Int) -> Bool {
            if lowerAt(i) == 0x68, lowerAt(i + 1) == 0x74, lowerAt(i + 2) == 0x74, lowerAt(i + 3) == 0x70 {
                let colon = lowerAt(i + 4) == 0x73 ? i + 5 : i + 4
                return colon + 2 < b.count && b[colon] == 0x3A && b[colon + 1] == 0x2F
            }
            return lowerAt(i) == 0x77 && lowerAt(i + 1) == 0x77 && lowerAt(i + 2) == 0x77 && i + 3 < b.count && b[i + 3] == 0x2E
        }
        func isWord(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A) }
        func isEnd(_ c: UInt8) -> Bool { c <= 0x20 || [0x22, 0x27, 0x3C, 0x3E, 0x29, 0x5D].contains(c) || c >= 0x80 }
        var i = 0
        while i < b.count, out.count < limit {
            let start = i
            guard startsLink(i) else { i += 1; continue }
            if start > 0, isWord(b[start - 1]) { i += 1; continue }
            var end = start
            while end < b.count, !isEnd(b[end]) { end += 1 }
            if let url = MessageURL(String(decoding: b[start..<end], as: UTF8.self)) { out.append(url) }
            i = max(end, start + 1)
        }
        return out
    }

    @Test func findsWhatThePlainWalkFinds() {
        let pieces = ["http", "HTTPS", "://", "www", "W", ".", " ", "x", "é", "<", ")", "example.org", "/", "h", "t", "p", "s", ":", "@"]
        var seed: UInt64 = 42
        func next(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        var found = 0
        for round in 0..<5_000 {
            let text = (0..<next(16)).map { _ in pieces[next(pieces.count)] }.joined()
            let limit = round % 10 == 0 ? 1 : 50
            let expected = Self.reference(text, limit: limit)
            found += expected.count
            #expect(PlainTextLinks.find(in: text, limit: limit) == expected, "\(text)")
        }
        #expect(found > 100, "the generated texts hold links")
    }
}
