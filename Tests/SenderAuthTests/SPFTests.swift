import DNS
import Testing
@testable import SenderAuth

/// SPF's own rules beyond the suite: limits, macros, the entry points.
@Suite struct SPFTests {
    static func checker(_ records: [String: String], _ extra: (inout DNSTable) -> Void = { _ in }) -> SPFChecker {
        var table = DNSTable()
        for (name, text) in records { table.addTXT(name, text) }
        extra(&table)
        // Logic, not timing: a deadline no loaded test machine reaches (the deadline has its own test).
        return SPFChecker(lookup: table, deadline: .seconds(3600))
    }

    @Test func eleventhDNSTermIsAPermerror() async {
        var records = ["example.com": "v=spf1 " + (1...11).map { "a:h\($0).example.com" }.joined(separator: " ") + " -all"]
        let checker = Self.checker(records) { table in
            for index in 1...11 { table.add("h\(index).example.com", .a, .a([198, 51, 100, 1])) }
        }
        #expect(await checker.check(ip: "192.0.2.1", sender: "a@example.com", helo: "x").result == .permerror)
        records["example.com"] = "v=spf1 " + (1...10).map { "a:h\($0).example.com" }.joined(separator: " ") + " -all"
        let atLimit = Self.checker(records) { table in
            for index in 1...10 { table.add("h\(index).example.com", .a, .a([198, 51, 100, 1])) }
        }
        #expect(await atLimit.check(ip: "192.0.2.1", sender: "a@example.com", helo: "x").result == .fail)
    }

    @Test func thirdVoidLookupIsAPermerror() async {
        let checker = Self.checker(["example.com": "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com -all"])
        #expect(await checker.check(ip: "192.0.2.1", sender: "a@example.com", helo: "x").result == .permerror)
        let two = Self.checker(["example.com": "v=spf1 a:n1.example.com a:n2.example.com -all"])
        #expect(await two.check(ip: "192.0.2.1", sender: "a@example.com", helo: "x").result == .fail)
    }

    @Test func includeLoopEndsAtTheTermLimit() async {
        let checker = Self.checker(["example.com": "v=spf1 include:example.com -all"])
        let check = await checker.check(ip: "192.0.2.1", sender: "a@example.com", helo: "x")
        #expect(check.result == .permerror)
    }

    @Test func heloAndNullSenderCheckTheHeloName() async {
        let checker = Self.checker(["mail.example.com": "v=spf1 ip4:192.0.2.0/24 -all"])
        #expect(await checker.checkHELO(ip: "192.0.2.7", helo: "mail.example.com").result == .pass)
        let bounce = await checker.check(ip: "198.51.100.7", sender: "", helo: "mail.example.com")
        #expect(bounce.result == .fail)
        #expect(bounce.domain == "mail.example.com")
        // Address literals name no domain: none, without a query (the table would answer them).
        var literal = DNSTable()
        literal.addTXT("[192.0.2.7]", "v=spf1 +all")
        literal.addTXT("192.0.2.7", "v=spf1 +all")
        let literalChecker = SPFChecker(lookup: literal, deadline: .seconds(3600))
        #expect(await literalChecker.checkHELO(ip: "192.0.2.7", helo: "[192.0.2.7]").result == .none)
        #expect(await literalChecker.checkHELO(ip: "192.0.2.7", helo: "192.0.2.7").result == .none)
    }

    @Test func macrosExpandAsTheRFCExamplesSay() async {
        // RFC 7208 §7.4, sender strong-bad@email.example.com, client 192.0.2.3.
        let values = SPFMacroString.Values(
            sender: "strong-bad@email.example.com", localPart: "strong-bad", senderDomain: "email.example.com",
            domain: "email.example.com", address: SPFAddress("192.0.2.3")!, helo: "h", receiver: "r", timestamp: 0)
        let expectations = [
            "%{s}": "strong-bad@email.example.com", "%{o}": "email.example.com", "%{d}": "email.example.com",
            "%{d4}": "email.example.com", "%{d3}": "email.example.com", "%{d2}": "example.com", "%{d1}": "com",
            "%{dr}": "com.example.email", "%{d2r}": "example.email", "%{l}": "strong-bad", "%{l-}": "strong.bad",
            "%{lr}": "strong-bad", "%{lr-}": "bad.strong", "%{l1r-}": "strong",
            "%{ir}.%{v}._spf.%{d2}": "3.2.0.192.in-addr._spf.example.com",
            "%{lr-}.lp._spf.%{d2}": "bad.strong.lp._spf.example.com",
        ]
        for (macro, expansion) in expectations {
            let parsed = try? SPFMacroString(parsing: Substring(macro))
            #expect(await parsed?.expand(values) == expansion, "\(macro)")
        }
        var v6 = values
        v6.address = SPFAddress("2001:db8::cb01")!
        // Upper-case nibbles, as the openspf suite wants them (the RFC writes lower case).
        #expect(await (try? SPFMacroString(parsing: "%{ir}.%{v}._spf.%{d2}"))?.expand(v6).lowercased()
            == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")
        #expect(await (try? SPFMacroString(parsing: "%{L}", explanation: false))?.expand(
            SPFMacroString.Values(sender: "a b@x.y", localPart: "a b/c", senderDomain: "x.y", domain: "x.y",
                                  address: SPFAddress("192.0.2.3")!, helo: "h", receiver: "r", timestamp: 0)) == "a%20b%2Fc")
    }

    @Test func recordSyntaxErrors() {
        for bad in ["v=spf1 ip4:1.2.3.4/33", "v=spf1 ip4:01.2.3.4", "v=spf1 a:foo.1", "v=spf1 foo", "v=spf1 -redirect=x.com",
                    "v=spf1 redirect=a.com redirect=b.com", "v=spf1 exp=a.com exp=b.com", "v=spf1 a:%{x}.com",
                    "v=spf1 all:x", "v=spf1 include", "v=spf1 mx//129", "v=spf1 a/024", "v=spf1 exists:%{d0}.com",
                    "v=spf1 ptr/24", "v=spf1 ip6:1.2.3.4", "v=spf1 a:museum", "v=spf1 x=%", "v=spf1 a:foo.com/abc",
                    "v=spf1 a:foo.com/24/", "v=spf1 mx:/24", "v=spf1 a//"] {
            #expect(throws: SPFSyntaxError.self, "\(bad)") { try SPFRecord(parsing: bad) }
        }
        for good in ["v=spf1", "v=spf1 ", "V=SPF1 -ALL", "v=spf1 a/24//64 mx:%{d}/0 ip6:::1/128 ptr ?exists:%{ir}.x.com ~all",
                     "v=spf1 foo.bar=baz redirect=%{d}", "v=spf1 a:a.b-c.", "v=spf1 include:_spf.example.com. -all",
                     "v=spf1 a:foo:bar/baz.example.com/24//64", "v=spf1 mx//0"] {
            #expect(throws: Never.self, "\(good)") { try SPFRecord(parsing: good) }
        }
        #expect(!SPFRecord.isSPF(Array("v=spf10".utf8)))
        #expect(!SPFRecord.isSPF(Array("v=spf".utf8)))
    }

    /// The table of parsed records answers as a fresh parse would, refusals included, and keeps
    /// no more than its capacity.
    @Test func parsedRecordsAreKeptAndAnswerAsAFreshParse() {
        let cache = SPFRecordCache(capacity: 8)
        let texts = ["v=spf1 ip4:1.2.3.4/33", "v=spf1 foo", "v=spf1 a:%{x}.com", "v=spf1 include", "v=spf1",
                     "V=SPF1 -ALL", "v=spf1 a/24//64 mx:%{d}/0 ip6:::1/128 ptr ?exists:%{ir}.x.com ~all",
                     "v=spf1 foo.bar=baz redirect=%{d}", "v=spf1 include:_spf.example.com. -all", "v=spf1 mx//0",
                     "v=spf1 ip4:192.0.2.0/24 \u{FF} -all", "v=spf1 " + String(repeating: "a ", count: 2100)]
        func fresh(_ text: String) -> Result<SPFRecord, SPFSyntaxError> {
            do { return .success(try SPFRecord(parsing: text)) } catch { return .failure(error) }
        }
        func cached(_ text: String) -> Result<SPFRecord, SPFSyntaxError> {
            do { return .success(try cache.record(Array(text.utf8))) } catch { return .failure(error) }
        }
        for round in 0..<3 {
            for text in texts {
                #expect(cached(text) == fresh(text), "round \(round): \(text.prefix(60))")
                #expect(cache.count <= cache.capacity)
            }
        }
        // The text over SPFRecord.maxLength is refused each time and never kept.
        let long = Array(texts.last!.utf8)
        #expect(long.count > SPFRecord.maxLength)
        let before = cache.count
        #expect(cached(texts.last!) == fresh(texts.last!))
        #expect(cache.count == before)
    }

    @Test func aTimeOutIsATemperror() async {
        let checker = Self.checker([:]) { $0.set("example.com", .txt, DNSAnswer(.temporaryFailure("timed out"))) }
        #expect(await checker.check(ip: "192.0.2.1", sender: "a@example.com", helo: "x").result == .temperror)
    }

    @Test func theDeadlineStopsFurtherQueries() async {
        var checker = Self.checker(["example.com": "v=spf1 -all"])
        checker.deadline = .zero
        #expect(await checker.check(ip: "192.0.2.1", sender: "a@example.com", helo: "x").result == .temperror)
    }

    /// ip4's dotted quad (RFC 7208's dec-octets, no leading zeros) read on bytes answers as the
    /// Character-wise split did, for every text of up to six characters over digits, dots and
    /// a letter, and for the edges.
    @Test func dottedQuadsAreTheABNFsAndOnlyThose() {
        func reference(_ text: String) -> Bool {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && (part.count == 1 || part.first != "0") && Int(part)! <= 255
            }
        }
        var texts = ["255.255.255.255", "256.0.0.0", "01.2.3.4", "0.0.0.0", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3",
                     "1.2.3.04", "1.2.3.4\n", "1.2.3.٣", "1.2.3.1\u{301}", "199.249.25.1", "10.0.0.1000", "1.2.3.-4"]
        var layer = [""]
        for _ in 1...6 {
            layer = layer.flatMap { prefix in ["0", "2", "5", "6", ".", "x"].map { prefix + $0 } }
            texts += layer.map { "1.2." + $0 } + layer
        }
        for text in texts {
            #expect(SPFRecord.isDottedQuad(text) == reference(text), "\(text)")
        }
        #expect(SPFRecord.isDottedQuad("192.0.2.255") && !SPFRecord.isDottedQuad("192.0.2.256"))
    }
}
