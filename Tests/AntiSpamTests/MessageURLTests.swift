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
