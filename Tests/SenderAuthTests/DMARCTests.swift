import Foundation
import DNS
import Testing
@testable import SenderAuth

@Suite struct PublicSuffixListTests {
    let debian = PublicSuffixList()

    @Test func debianListIsReadAndMatches() {
        #expect(!debian.isFallback)
        #expect(debian.organizationalDomain(of: "mail.example.com") == "example.com")
        #expect(debian.organizationalDomain(of: "a.b.example.co.uk") == "example.co.uk")
        #expect(debian.organizationalDomain(of: "example.com.") == "example.com")
        #expect(debian.organizationalDomain(of: "com") == "com")
        #expect(debian.publicSuffix(of: "x.y.kawasaki.jp") == "y.kawasaki.jp")  // *.kawasaki.jp
        #expect(debian.publicSuffix(of: "city.kawasaki.jp") == "kawasaki.jp")  // !city.kawasaki.jp
        #expect(debian.organizationalDomain(of: "www.city.kawasaki.jp") == "city.kawasaki.jp")
        // A U-label rule matches the A-label form DNS names have (中国 = xn--fiqs8s).
        #expect(debian.publicSuffix(of: "example.xn--fiqs8s") == "xn--fiqs8s")
        #expect(debian.publicSuffix(of: "example.unknowntld") == "unknowntld")
    }

    @Test func rulesFromTextAndFallback() {
        let list = PublicSuffixList(text: "// comment\ncom\n*.ck\n!www.ck\nxn--fiqs8s\n中国\n")
        #expect(list.organizationalDomain(of: "a.b.ck") == "a.b.ck")
        #expect(list.organizationalDomain(of: "x.www.ck") == "www.ck")
        let missing = PublicSuffixList(contentsOf: "/nonexistent/list.dat")
        #expect(missing.isFallback)
        #expect(missing.organizationalDomain(of: "mx.shop.co.uk") == "shop.co.uk")
        #expect(missing.organizationalDomain(of: "mx.example.net") == "example.net")
    }

    /// Every name of up to four labels over a small list's words, empty labels and white space
    /// included, gets the answer of the plain rule walk (split, join each candidate, look up).
    @Test func answersAsThePlainRuleWalkDoes() {
        let text = "com\nco.uk\nuk\n*.ck\n!www.ck\n*.kawasaki.jp\n!city.kawasaki.jp\njp\n"
        let list = PublicSuffixList(text: text)
        let words = text.split(separator: "\n").map(String.init)
        let rules = Set(words.filter { !$0.hasPrefix("*") && !$0.hasPrefix("!") })
        let wildcards = Set(words.filter { $0.hasPrefix("*.") }.map { String($0.dropFirst(2)) })
        let exceptions = Set(words.filter { $0.hasPrefix("!") }.map { String($0.dropFirst()) })
        func reference(_ name: String) -> (suffix: String, organizational: String) {
            var normalized = name.trimmingCharacters(in: .whitespaces).lowercased()
            while normalized.hasSuffix(".") { normalized.removeLast() }
            let labels = normalized.split(separator: ".").map(String.init)
            guard !labels.isEmpty else { return ("", normalized) }
            var best = 1
            var exception: Int?
            for count in 1...labels.count {
                let candidate = labels.suffix(count).joined(separator: ".")
                if exceptions.contains(candidate) { exception = count - 1; break }
                if rules.contains(candidate) { best = max(best, count) }
                if count < labels.count, wildcards.contains(candidate) { best = max(best, count + 1) }
            }
            let k = exception ?? best
            let suffix = labels.suffix(k).joined(separator: ".")
            return (suffix, labels.count > k ? labels.suffix(k + 1).joined(separator: ".") : normalized)
        }
        let pieces = ["a", "Com", "co", "uk", "ck", "www", "kawasaki", "jp", "city", "", " x"]
        var names: [String] = []
        var layer = [""]
        for depth in 1...4 {
            layer = layer.flatMap { name in pieces.map { depth == 1 ? $0 : name + "." + $0 } }
            names += layer
        }
        names += names.prefix(2_000).map { $0 + "." } + names.prefix(2_000).map { "\t" + $0 + " " }
        for name in names {
            let expected = reference(name)
            #expect(list.publicSuffix(of: name) == expected.suffix, "\(name)")
            #expect(list.organizationalDomain(of: name) == expected.organizational, "\(name)")
        }
    }

    /// The byte path for ASCII names trims, lowers and drops trailing dots as Foundation does;
    /// other names (non-ASCII white space among them) still go through Foundation.
    @Test func namesAreNormalizedAsFoundationDoes() {
        let alphabet = ["a", "B", ".", " ", "\t", "é", "\u{A0}", "\n", "Z"]
        var names = [""]
        var layer = [""]
        for _ in 1...5 {
            layer = layer.flatMap { prefix in alphabet.map { prefix + $0 } }
            names += layer
        }
        for name in names {
            var expected = name.trimmingCharacters(in: .whitespaces).lowercased()
            while expected.hasSuffix(".") { expected.removeLast() }
            #expect(DomainName.normalized(name) == expected, "\(name.unicodeScalars.map(\.value))")
        }
    }

    @Test func punycodeMatchesRFC3492() {
        #expect(Punycode.encode("bücher") == "bcher-kva")
        #expect(Punycode.encode("中国") == "fiqs8s")
        #expect(Punycode.asciiName("münchen.de") == "xn--mnchen-3ya.de")
    }
}

@Suite struct FromDomainTests {
    @Test func extractsTheOneDomain() {
        #expect(FromDomain.extract(["Joe <joe@Example.COM>"]) == .domain("example.com"))
        #expect(FromDomain.extract(["\"a@evil.example\" <joe@example.com> (comment@evil.example)"]) == .domain("example.com"))
        #expect(FromDomain.extract(["joe@example.com (Joe)"]) == .domain("example.com"))
        #expect(FromDomain.extract(["a@example.com, b@example.com"]) == .domain("example.com"))
        #expect(FromDomain.extract(["Friends: a@example.com, b@example.com;"]) == .domain("example.com"))
    }

    @Test func problems() {
        for bad in [[String](), ["a@example.com", "b@example.com"], ["a@example.com, b@example.net"], ["nobody"], ["x@[192.0.2.1]"]] {
            guard case .problem = FromDomain.extract(bad) else { Issue.record("\(bad)"); continue }
        }
    }
}

@Suite struct DMARCTests {
    func evaluator(_ records: [String: String], sample: Int = 0) -> DMARCEvaluator {
        var t = DNSTable()
        for (name, text) in records { t.addTXT(name, text) }
        return DMARCEvaluator(lookup: t, suffixes: PublicSuffixList(), sample: { sample })
    }

    func dkim(_ domain: String, _ result: DKIMResult = .pass) -> DKIMSignatureCheck {
        DKIMSignatureCheck(result: result, domain: domain, selector: "s", algorithm: "rsa-sha256")
    }

    @Test func recordParsing() {
        let r = DMARCRecord.parse("v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=r; pct=20; rua=mailto:x@y")
        #expect(r == DMARCRecord(policy: .reject, subdomainPolicy: .quarantine, dkimAlignment: .strict, spfAlignment: .relaxed, percent: 20))
        #expect(DMARCRecord.parse("v=DMARC1; p=bogus; rua=mailto:a@b")?.policy == DMARCPolicy.none)
        #expect(DMARCRecord.parse("v=DMARC1; p=bogus") == nil)
        #expect(DMARCRecord.parse("p=reject; v=DMARC1") == nil)
        #expect(DMARCRecord.parse("v=DMARC1; p=none; pct=500")?.percent == 100)
    }

    @Test func alignedDKIMOrSPFPasses() async {
        let e = evaluator(["_dmarc.example.com": "v=DMARC1; p=reject"])
        let byDKIM = await e.evaluate(fromFields: ["a@mail.example.com"], spf: nil, dkim: [dkim("example.com")])
        #expect(byDKIM.result == .pass)
        #expect(byDKIM.policyDomain == "example.com")
        #expect(byDKIM.fromDomain == "mail.example.com")
        let bySPF = await e.evaluate(fromFields: ["a@example.com"], spf: SPFCheck(result: .pass, domain: "bounces.example.com"), dkim: [])
        #expect(bySPF.result == .pass)
        let unaligned = await e.evaluate(fromFields: ["a@example.com"], spf: SPFCheck(result: .pass, domain: "other.net"),
                                         dkim: [dkim("other.net"), dkim("example.com", .fail)])
        #expect(unaligned.result == .fail)
        #expect(unaligned.policy == .reject)
    }

    @Test func transientFailuresOfAlignedChecksAreTemperror() async {
        let e = evaluator(["_dmarc.example.com": "v=DMARC1; p=reject"])
        let dkimDown = await e.evaluate(fromFields: ["a@example.com"], spf: nil, dkim: [dkim("example.com", .temperror)])
        #expect(dkimDown.result == .temperror)
        let spfDown = await e.evaluate(fromFields: ["a@example.com"], spf: SPFCheck(result: .temperror, domain: "example.com"), dkim: [])
        #expect(spfDown.result == .temperror)
        // Not aligned: it could not have passed DMARC anyway.
        let other = await e.evaluate(fromFields: ["a@example.com"], spf: nil, dkim: [dkim("other.net", .temperror)])
        #expect(other.result == .fail)
    }

    @Test func strictAlignmentAndSubdomainPolicy() async {
        let e = evaluator(["_dmarc.example.com": "v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=s"])
        let sub = await e.evaluate(fromFields: ["a@mail.example.com"], spf: SPFCheck(result: .pass, domain: "example.com"),
                                   dkim: [dkim("example.com")])
        #expect(sub.result == .fail)
        #expect(sub.policy == .quarantine)
        let exact = await e.evaluate(fromFields: ["a@example.com"], spf: nil, dkim: [dkim("example.com")])
        #expect(exact.result == .pass)
    }

    @Test func percentSampling() async {
        let record = ["_dmarc.example.com": "v=DMARC1; p=reject; pct=10"]
        let inSample = await evaluator(record, sample: 5).evaluate(fromFields: ["a@example.com"], spf: nil, dkim: [])
        #expect(inSample.policy == .reject)
        let outside = await evaluator(record, sample: 50).evaluate(fromFields: ["a@example.com"], spf: nil, dkim: [])
        #expect(outside.result == .fail)
        #expect(outside.policy == .quarantine)
    }

    @Test func discoveryEdgeCases() async {
        let none = await evaluator([:]).evaluate(fromFields: ["a@example.com"], spf: nil, dkim: [])
        #expect(none.result == .none)
        #expect(none.policy == nil)
        // Two DMARC records at one name: none applies; other TXT records are ignored.
        var t = DNSTable()
        t.addTXT("_dmarc.example.com", "v=DMARC1; p=reject")
        t.addTXT("_dmarc.example.com", "v=DMARC1; p=none")
        t.addTXT("_dmarc.example.org", "google-site-verification=x")
        t.addTXT("_dmarc.example.org", "v=DMARC1; p=quarantine")
        let e = DMARCEvaluator(lookup: t, suffixes: PublicSuffixList())
        #expect(await e.evaluate(fromFields: ["a@example.com"], spf: nil, dkim: []).result == .none)
        #expect(await e.evaluate(fromFields: ["a@example.org"], spf: nil, dkim: []).policy == .quarantine)
        let temp = await DMARCEvaluator(lookup: FailingDNS(), suffixes: PublicSuffixList())
            .evaluate(fromFields: ["a@example.com"], spf: nil, dkim: [])
        #expect(temp.result == .temperror)
        let two = await evaluator([:]).evaluate(fromFields: ["a@example.com", "b@example.com"], spf: nil, dkim: [])
        #expect(two.result == .permerror)
    }

    @Test func fromTheMessage() async {
        let e = evaluator(["_dmarc.football.example.com": "v=DMARC1; p=reject"])
        let dkim = await DKIMVerifier(lookup: Fixtures.rfc8463Keys).verify(message: Fixtures.bytes(Fixtures.rfc8463Message))
        let check = await e.evaluate(message: Fixtures.bytes(Fixtures.rfc8463Message), spf: nil, dkim: dkim)
        #expect(check.result == .pass)
        #expect(check.fromDomain == "football.example.com")
        let twoFrom = "From: x@evil.example\r\n" + Fixtures.rfc8463Message
        #expect(await e.evaluate(message: Fixtures.bytes(twoFrom), spf: nil, dkim: dkim).result == .permerror)
    }
}
