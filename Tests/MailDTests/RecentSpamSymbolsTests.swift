import Testing
@testable import MailD

/// The console's "top spam symbols" count the last messages only, however much mail flows.
@Suite struct RecentSpamSymbolsTests {
    @Test func countsTheLastMessagesAndForgetsOlderOnes() {
        let recent = RecentSpamSymbols(capacity: 3)
        recent.record(["GTUBE", "HTML_ONLY"])
        recent.record(["HTML_ONLY"])
        recent.record([])
        #expect(recent.top() == [.init(name: "HTML_ONLY", messages: 2), .init(name: "GTUBE", messages: 1)])
        // The first message leaves the window: its symbols are no longer counted.
        recent.record(["URL_SHORTENER"])
        #expect(recent.top() == [.init(name: "HTML_ONLY", messages: 1), .init(name: "URL_SHORTENER", messages: 1)])
        for _ in 0..<10 { recent.record(["SUBJECT_ALL_CAPS"]) }
        #expect(recent.top() == [.init(name: "SUBJECT_ALL_CAPS", messages: 3)])
        #expect(recent.top(0).isEmpty)
    }
}
