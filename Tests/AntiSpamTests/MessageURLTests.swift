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
