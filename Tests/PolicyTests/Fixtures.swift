@testable import Policy

/// Facts of a typical inbound message: a text part, a zip with a virus, an encrypted PDF.
let sample = MessageFacts(
    protocolName: .smtp, direction: .inbound,
    clientIP: "192.0.2.10", clientPort: 40000, clientHostname: "mail.example.net",
    serverIP: "2001:db8::25", serverPort: 25, sniHost: "mx.example.org",
    tls: true, unwrapSsl: false, authUser: nil,
    helo: "mail.example.net", envelopeFrom: "Alice@Example.net", envelopeTo: ["bob@example.org", "carol@example.org"],
    messageId: "<123@example.net>", subject: "Cheap watches, buy now",
    headers: [HeaderField("From", "Alice <alice@example.net>"), HeaderField("List-Id", "<announce.example.net>"),
              HeaderField("Received", "from a"), HeaderField("Received", "from b")],
    bodyText: "Hello\nPlease buy our stuff.\n", messageSize: 50_000,
    parts: [
        PartFacts(path: "1", contentType: "text/plain", size: 200),
        PartFacts(path: "2", filename: "invoice.zip", contentType: "application/zip", size: 40_000,
                  threats: [ThreatFact(name: "Trojan.Inject.123", category: .knownVirus)]),
        PartFacts(path: "3", filename: "Doc.PDF", contentType: "application/pdf", size: 5_000_000,
                  unchecked: [.encrypted]),
    ],
    spamScore: 0.9
)

/// A clean message with nothing notable.
let clean = MessageFacts(
    protocolName: .milter, clientIP: "198.51.100.7", helo: "client", envelopeFrom: "", envelopeTo: ["bob@example.org"],
    subject: "Minutes", bodyText: "See you tomorrow.", messageSize: 900,
    parts: [PartFacts(path: "1", contentType: "text/plain", size: 900)], spamScore: 0.1
)

/// Files for `in file(...)`.
let testFiles: [String: String] = [
    "/etc/moat/recipients": "# trusted recipients\nbob@example.org\n\n  dave@example.org  \n",
    "/etc/moat/networks": "10.0.0.0/8\n192.0.2.0/24\n",
    "/etc/moat/categories": "KnownVirus\n# comment\nAdware\n",
    "/etc/moat/bad-categories": "KnownVirus\nKnowVirus\n",
    "/etc/moat/empty": "",
    "/etc/moat/no-filter": "postmaster@example.org\n",
]

struct MissingFile: Error {}

let testReader: RuleFileReader = { path in
    guard let text = testFiles[path] else { throw MissingFile() }
    return text
}

func compile(_ rules: [String], kind: RuleSetKind = .mail) throws -> CompiledRuleSet {
    try RuleSet.compile(rules, name: "Test", kind: kind, readFile: testReader)
}

/// The error of a rule set that must not compile.
func compileError(_ rules: [String], kind: RuleSetKind = .mail) -> RuleError? {
    do {
        _ = try RuleSet.compile(rules, name: "Test", kind: kind, readFile: testReader)
        return nil
    } catch {
        return error
    }
}
