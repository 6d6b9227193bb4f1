import Testing
@testable import AntiSpam

/// HTML to what a reader sees, with libxml2's parser.
struct HTMLTextTests {
    static func words(_ text: String) -> [String] { text.split(whereSeparator: { $0.isWhitespace }).map(String.init) }

    @Test func scriptStyleAndHeadAreNotText() {
        let r = HTMLTextExtractor.extract(Array("""
            <html><head><title>T</title><style>p{color:red}</style></head>
            <body><p>Hello <b>there</b></p><script>var x = "hidden";</script><div>bye</div></body></html>
            """.utf8))
        #expect(Self.words(r.text) == ["Hello", "there", "bye"])
    }

    @Test func inlineTagsInsideAWordDoNotSplitIt() {
        let r = HTMLTextExtractor.extract(Array("<p>V<b></b>ia<i>gra</i></p>".utf8))
        #expect(Self.words(r.text) == ["Viagra"])
    }

    @Test func linksKeepTheirTargetAndShownText() {
        let r = HTMLTextExtractor.extract(Array("""
            <p>Log in at <a href="http://198.51.100.7/login">www.bank.example</a> or
            <A HREF='https://help.example.org/'><b>help</b></A> <img src=x alt="logo"></p>
            """.utf8))
        #expect(r.links == [.init(href: "http://198.51.100.7/login", text: "www.bank.example"),
                            .init(href: "https://help.example.org/", text: "help")])
        #expect(r.imageCount == 1)
        #expect(r.text.contains("logo"))
    }

    @Test func brokenMarkupIsRecovered() {
        let r = HTMLTextExtractor.extract(Array("<div>one<p>two</span></div></b><p>three".utf8))
        #expect(Self.words(r.text) == ["one", "two", "three"])
    }

    @Test func deeplyNestedHTMLStopsAtTheNestingLimitAndSaysSo() {
        let depth = 100_000
        let html = "<p>shallow</p>" + String(repeating: "<div>", count: depth) + "deep" + String(repeating: "</div>", count: depth)
        let r = HTMLTextExtractor.extract(Array(html.utf8))
        #expect(r.nestingLimitHit)
        #expect(r.text.contains("shallow"))
        let normal = HTMLTextExtractor.extract(Array((String(repeating: "<div>", count: 50) + "fine").utf8))
        #expect(!normal.nestingLimitHit)
        #expect(normal.text.contains("fine"))
    }

    @Test func inputAndTextAreCutAtTheLimits() {
        let html = "<p>" + String(repeating: "word ", count: 100_000) + "</p>"
        let r = HTMLTextExtractor.extract(Array(html.utf8), maxInputBytes: 100_000, maxTextBytes: 1000)
        #expect(r.truncated)
        #expect(r.text.utf8.count <= 1000)
    }

    /// Found by the spam-html fuzz target: libxml2 passes undecodable bytes through, and each
    /// became a 3-byte U+FFFD after the byte limit had been applied.
    @Test func repairedInvalidBytesStayWithinTheTextLimit() {
        let r = HTMLTextExtractor.extract([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0x02], maxTextBytes: 17)
        #expect(r.text.utf8.count <= 17)
        #expect(r.text.unicodeScalars.contains("\u{FFFD}"), "the undecodable bytes are kept as replacement characters")
    }

    @Test func invalidUTF8IsReadNotRejected() {
        let r = HTMLTextExtractor.extract([0x3C, 0x70, 0x3E, 0x61, 0x62, 0xFF, 0xC3, 0x28, 0x63, 0x64, 0x3C, 0x2F, 0x70, 0x3E])
        #expect(r.text.contains("ab"))
    }

    @Test func whatIsInsideASkippedElementIsNotSeenAtAll() {
        let r = HTMLTextExtractor.extract(Array("""
            <noscript><img src=x alt="hidden"><a href="http://a.example/">no</a></noscript>
            <p>shown <a href>bare</a></p>
            """.utf8))
        #expect(Self.words(r.text) == ["shown", "bare"])
        #expect(r.imageCount == 0)
        #expect(r.links == [.init(href: "", text: "bare")], "an href without a value is an empty one")
    }

    @Test func anAnchorOpenWhenTheNestingLimitStopsTheParserIsStillALink() {
        let html = "<a href=\"http://deep.example/\">click " + String(repeating: "<span>", count: 400) + "hidden"
        let r = HTMLTextExtractor.extract(Array(html.utf8))
        #expect(r.nestingLimitHit)
        #expect(r.links.map(\.href) == ["http://deep.example/"])
        #expect(!r.text.contains("hidden"))
    }
}
