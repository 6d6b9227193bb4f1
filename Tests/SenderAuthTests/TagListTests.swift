import Testing
@testable import SenderAuth

@Suite struct TagListTests {
    @Test func parsesTagsWithFoldingAndKeepsValueRanges() throws {
        let text = Array("v=1; a=rsa-sha256;\r\n\tb=abc\r\n def ;  h = from : to;".utf8)
        let tags = try TagList.parse(text[...])
        #expect(tags.tags.map(\.name) == ["v", "a", "b", "h"])
        #expect(tags["b"] == "abc def")
        #expect(tags["h"] == "from : to")
        let b = try #require(tags.tag("b"))
        #expect(String(decoding: text[b.rawValueRange], as: UTF8.self) == "abc\r\n def ")
    }

    @Test func toleratesEmptySpecsAndTrailingSemicolon() throws {
        let tags = try TagList.parse("k=rsa;; p=AB;")
        #expect(tags["k"] == "rsa")
        #expect(tags["p"] == "AB")
        #expect(try TagList.parse("").tags.isEmpty)
    }

    @Test func rejectsDuplicatesAndBadSyntax() {
        #expect(throws: TagList.Failure.duplicate("a")) { try TagList.parse("a=1; a=2") }
        #expect(throws: TagList.Failure.self) { try TagList.parse("=1") }
        #expect(throws: TagList.Failure.self) { try TagList.parse("a 1") }
        #expect(throws: TagList.Failure.self) { try TagList.parse("1a=x") }
        #expect(throws: TagList.Failure.self) { try TagList.parse("a=x\r\nb=y") }  // a line break that is no fold
        #expect(throws: TagList.Failure.self) { try TagList.parse("a=\u{01}") }
    }

    @Test func hostileListsEndInAnErrorNotWork() {
        let many = (0..<1000).map { "t\($0)=x" }.joined(separator: ";")
        #expect(throws: TagList.Failure.tooManyTags) { try TagList.parse(many) }
        let long = "p=" + String(repeating: "A", count: 70_000)
        #expect(throws: TagList.Failure.tooLong) { try TagList.parse(long) }
        // Deep folding and long white space runs stay linear.
        let folds = "a=" + String(repeating: "x\r\n ", count: 10_000)
        #expect((try? TagList.parse(folds))?["a"]?.count == 19_999)
    }
}
