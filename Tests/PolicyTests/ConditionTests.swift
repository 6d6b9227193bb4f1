import Foundation
import Testing
@testable import Policy

/// Every condition form, each true on one message and false on another (or negated).
struct ConditionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let condition: String
        let onSample: Bool
        let onClean: Bool
        init(_ condition: String, _ onSample: Bool, _ onClean: Bool) {
            self.condition = condition
            self.onSample = onSample
            self.onClean = onClean
        }
        var testDescription: String { condition }
    }

    static let cases: [Case] = [
        // Set contains a value; enumerations case-insensitive
        Case("threat_category KnownVirus", true, false),
        Case("threat_category knownvirus", true, false),
        Case("threat_category Adware", false, false),
        Case("threat_category not KnownVirus", false, true),
        Case("not threat_category KnownVirus", false, true),
        // in (...)
        Case("threat_category in (KnownVirus, VirusModification, UnknownVirus)", true, false),
        Case("threat_category in (Joke, HackTool)", false, false),
        Case("threat_category not in (Joke, HackTool)", true, true),
        Case("threat_category not in (KnownVirus)", false, true),
        Case("THREAT_CATEGORY IN (KNOWNVIRUS)", true, false),
        // Bare set: not empty
        Case("threat_category", true, false),
        Case("not threat_category", false, true),
        Case("unchecked", true, false),
        Case("unchecked_reason Encrypted", true, false),
        Case("unchecked in (Timeout, EngineError)", false, false),
        Case("scan_result Threat", true, false),
        Case("scan_result Clean", false, true),
        Case("scan_result in (Unchecked, Threat)", true, false),
        // Threat names
        Case("threat match \"^trojan\\\\.\"", true, false),
        Case("threat \"Trojan.Inject.123\"", true, false),
        Case("threat_name match (\"EICAR\", \"Inject\")", true, false),
        // Numbers, words and symbols
        Case("total_spam_score gt 0.80", true, false),
        Case("total_spam_score > 0.80", true, false),
        Case("total_spam_score not gt 0.80", false, true),
        Case("spam_score ge 0.9", true, false),
        Case("spam_score >= 0.9", true, false),
        Case("spam_score lt 0.5", false, true),
        Case("spam_score < 0.5", false, true),
        Case("spam_score le 0.1", false, true),
        Case("spam_score <= 0.1", false, true),
        Case("spam_score eq 0.9", true, false),
        Case("spam_score == 0.9", true, false),
        Case("spam_score ne 0.9", false, true),
        Case("spam_score != 0.9", false, true),
        Case("spam_score 0.9", true, false),
        Case("message_size gt 10K", true, false),
        Case("message_size gt 10KB", true, false),
        Case("message_size lt 1M", true, true),
        Case("message_size in (900, 901)", false, true),
        Case("parts_count eq 3", true, false),
        Case("part_count 1", false, true),
        Case("attachment_size gt 4M", true, false),
        Case("attachment_size lt 50000", true, false),
        Case("src_port lt 1024", false, false),
        Case("client_port 40000", true, false),
        Case("dst_port 25", true, false),
        Case("server_port in (25, 587)", true, false),
        // Text: case-insensitive equality
        Case("from alice@example.net", true, false),
        Case("from \"\"", false, true),
        Case("sender match \"@example\\\\.net$\"", true, false),
        Case("to bob@example.org", true, true),
        Case("rcpt carol@example.org", true, false),
        Case("to in (dave@example.org, carol@example.org)", true, false),
        Case("to in file(\"/etc/moat/recipients\")", true, true),
        Case("to not in file(\"/etc/moat/recipients\")", false, false),
        Case("to in file(\"/etc/moat/empty\")", false, false),
        Case("helo mail.example.net", true, false),
        Case("helo match \"^client$\"", false, true),
        Case("client_hostname match \"example\\\\.net\"", true, false),
        Case("sni_host mx.example.org", true, false),
        Case("auth_user match \".\"", false, false),
        Case("message_id \"<123@example.net>\"", true, false),
        Case("subject match \"BUY\"", true, false),
        Case("subject not match \"buy\"", false, true),
        Case("subject \"minutes\"", false, true),
        Case("subject match (\"^re:\", \"watches\")", true, false),
        Case("body match (\".*buy.*\")", true, false),
        Case("body match \"^hello\"", true, false),
        Case("body match \"^please\"", false, false),
        Case("body match \"(?m)^please\"", true, false),
        Case("body match \"tomorrow\\\\.$\"", false, true),
        Case("header(\"List-Id\") match \"announce\"", true, false),
        Case("header(list-id) match \"announce\"", true, false),
        Case("header(\"Received\") \"from b\"", true, false),
        Case("header(\"X-Missing\")", false, false),
        Case("header(\"Received\")", true, false),
        Case("headers match \"^list-id: <announce\"", true, false),
        Case("attachment_name match \"\\\\.pdf$\"", true, false),
        Case("file_name invoice.zip", true, false),
        Case("filename in (a.exe, doc.pdf)", true, false),
        Case("content_type application/zip", true, false),
        Case("mime_type in (text/plain)", true, true),
        Case("content_type match \"^application/\"", true, false),
        // IP addresses and networks
        Case("src_ip 192.0.2.10", true, false),
        Case("src_ip 192.0.2.0/24", true, false),
        Case("client_ip in (10.0.0.0/8, 198.51.100.0/25)", false, true),
        Case("src_ip in file(\"/etc/moat/networks\")", true, false),
        Case("src_ip not in (0.0.0.0/0)", false, false),
        Case("dst_ip \"2001:db8::/32\"", true, false),
        Case("dst_ip in (\"2001:db8::25\")", true, false),
        Case("dst_ip 192.0.2.25", false, false),
        // Enumerations
        Case("protocol Smtp", true, false),
        Case("protocol in (Milter, Spamd, Rspamd)", false, true),
        Case("protocol in (smtp, pop3, imap)", true, false),
        Case("direction Inbound", true, false),
        Case("direction not Outbound", true, true),
        // Yes/no
        Case("tls", true, false),
        Case("not tls", false, true),
        Case("ssl yes", true, false),
        Case("tls false", false, true),
        Case("unwrap_ssl", false, false),
        Case("unwrap_ssl off", true, true),
        Case("tag trusted", false, false),
        Case("tag", false, false),
        // Several conditions: AND
        Case("threat_category KnownVirus, tls", true, false),
        Case("threat_category KnownVirus, not tls", false, false),
        Case("spam_score lt 0.5, protocol Milter, to bob@example.org", false, true),
    ]

    @Test(arguments: cases)
    func condition(_ c: Case) throws {
        let rules = try compile(["\(c.condition) : REJECT"])
        #expect((rules.evaluate(sample).action == .reject(nil)) == c.onSample, "on the sample message")
        #expect((rules.evaluate(clean).action == .reject(nil)) == c.onClean, "on the clean message")
    }

    @Test func absentValuesNeverMatchButTheirNegationDoes() throws {
        let noScore = MessageFacts()
        for condition in ["spam_score gt 0", "spam_score lt 1", "src_ip 0.0.0.0/0", "protocol Smtp", "subject match \"\""] {
            #expect(try compile(["\(condition) : REJECT"]).evaluate(noScore).action == .pass, "\(condition)")
        }
        for condition in ["spam_score not gt 0", "src_ip not in (0.0.0.0/0)", "subject not match \".\""] {
            #expect(try compile(["\(condition) : REJECT"]).evaluate(noScore).action == .reject(nil), "\(condition)")
        }
    }

    @Test func regexLooksOnlyAtTheFirstMegabyteOfTheBody() throws {
        var big = clean
        big.bodyText = String(repeating: "a", count: (1 << 20) + 10) + "needle"
        #expect(try compile(["body match \"needle\" : REJECT"]).evaluate(big).action == .pass)
        big.bodyText = "needle" + String(repeating: "a", count: 1 << 20)
        #expect(try compile(["body match \"needle\" : REJECT"]).evaluate(big).action == .reject(nil))
    }

    @Test func runawayRegexIsGivenUpAndNoted() throws {
        var facts = clean
        facts.subject = String(repeating: "a", count: 40) + "!"
        let rules = try compile(["subject match \"(a+)+$\" : REJECT", "subject match \"^a\" : TEMPFAIL"])
        let start = ContinuousClock.now
        let verdict = rules.evaluate(facts)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(verdict.action == .tempfail(nil))
        #expect(verdict.notes.count == 1)
        #expect(verdict.notes.first?.hasPrefix("Test rule 1: regular expression `(a+)+$` ran longer than") == true)
    }

    @Test func ipv4MappedAddressesMatchIPv4Networks() throws {
        var facts = clean
        facts.clientIP = "::ffff:10.1.2.3"
        #expect(try compile(["src_ip 10.0.0.0/8 : REJECT"]).evaluate(facts).action == .reject(nil))
        facts.clientIP = "not an address"
        #expect(try compile(["src_ip 10.0.0.0/8 : REJECT"]).evaluate(facts).action == .pass)
    }

    @Test func stringEscapes() throws {
        var facts = clean
        facts.subject = #"say "hi" \o/"#
        #expect(try compile([#"subject "say \"hi\" \\o/" : REJECT"#]).evaluate(facts).action == .reject(nil))
        // Other backslashes stay, for regexes.
        facts.subject = "order 123"
        #expect(try compile([#"subject match "\d+$" : REJECT"#]).evaluate(facts).action == .reject(nil))
    }
}
