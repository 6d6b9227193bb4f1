import Testing
@testable import DNS

@Suite struct DNSTableTests {
    @Test func namesCompareWithoutCaseOrTrailingDot() async {
        var table = DNSTable()
        table.addTXT("Example.COM.", "v=spf1 -all")
        let answer = await table.lookup("example.com", .txt)
        #expect(answer.texts == [Array("v=spf1 -all".utf8)])
    }

    @Test func missingTypeAtExistingNameIsNoDataAndUnknownNameIsNXDomain() async {
        var table = DNSTable()
        table.add("mail.example.com", .a, .a([192, 0, 2, 1]))
        #expect(await table.lookup("mail.example.com", .aaaa).result == .noData)
        #expect(await table.lookup("other.example.com", .a).result == .nxdomain)
    }

    @Test func longTextIsSplitIntoStringsAndJoinedBack() async {
        var table = DNSTable()
        let text = String(repeating: "k", count: 600)
        table.addTXT("sel._domainkey.example.com", text)
        let answer = await table.lookup("sel._domainkey.example.com", .txt)
        guard case .txt(let strings) = answer.records.first else { Issue.record("no TXT"); return }
        #expect(strings.map(\.count) == [255, 255, 90])
        #expect(answer.texts.first?.count == 600)
    }
}
