import MoatConfig

/// The kinds of value a variable holds; literals in rules are checked against them.
enum ValueKind: Sendable {
    case text
    case number(sizes: Bool)
    case bool
    case ip
    case enumerated(EnumDomain)

    var name: String {
        switch self {
        case .text: "text"
        case .number: "a number"
        case .bool: "yes/no"
        case .ip: "an IP address"
        case .enumerated(let domain): "a \(domain.name)"
        }
    }
}

/// The values an enumerated variable may take, spelt as in Dr.Web, compared case-insensitively.
struct EnumDomain: Sendable {
    var name: String
    var cases: [String]

    init<E: RawRepresentable & CaseIterable>(_ name: String, _: E.Type) where E.RawValue == String {
        self.name = name
        self.cases = E.allCases.map(\.rawValue)
    }

    func canonical(_ text: String) -> String? {
        cases.first { $0.caseInsensitiveEquals(text) }
    }
}

/// A value taken from the facts while evaluating.
enum FactValue: Sendable, Equatable {
    case text(String)
    case number(Double)
    case bool(Bool)
    case ip(IPAddress)
    case enumCase(String)
}

/// What the evaluator knows while running one rule set: the facts plus what `SET` changed.
struct EvaluationState: Sendable {
    var facts: MessageFacts
    var tags: [String] = []
    var unwrapSslSet: Bool?
}

/// One variable a condition can test.
struct Variable: Sendable {
    var name: String
    var aliases: [String] = []
    var kind: ValueKind
    /// A set holds any number of values (a condition holds when any of them fits).
    var isSet: Bool
    /// `header("Name")` takes the header name in parentheses.
    var takesArgument = false
    /// `SET name = value` may change it.
    var settable = false
    /// How many characters of each value a regular expression looks at.
    var matchLimit = 64 * 1024
    var type: String
    var meaning: String
    var example: String
    var values: @Sendable (_ state: EvaluationState, _ argument: String?) -> [FactValue]
}

extension Variable {
    static func texts(_ values: [String?]) -> [FactValue] { values.compactMap { $0.map(FactValue.text) } }
    static func ips(_ text: String?) -> [FactValue] { text.flatMap(IPAddress.init).map { [.ip($0)] } ?? [] }
    static func numbers(_ values: [Int?]) -> [FactValue] { values.compactMap { $0.map { .number(Double($0)) } } }

    /// The variable table. Names are Dr.Web's where Dr.Web has one; aliases read too.
    static let all: [Variable] = core + sender

    private static let core: [Variable] = [
        Variable(name: "threat_category", kind: .enumerated(EnumDomain("threat category", ThreatCategory.self)),
                 isSet: true, type: "set of threat category",
                 meaning: "Categories of the threats found in any part: KnownVirus, VirusModification, UnknownVirus, Adware, Dialer, Joke, Riskware, HackTool",
                 example: "threat_category in (KnownVirus, VirusModification) : REJECT") { s, _ in
            s.facts.threats.map { .enumCase($0.category.rawValue) }
        },
        Variable(name: "threat", aliases: ["threat_name"], kind: .text, isSet: true, type: "set of text",
                 meaning: "Names of the threats found, as the engine reports them",
                 example: "threat match \"^EICAR\" : REPACK") { s, _ in
            s.facts.threats.map { .text($0.name) }
        },
        Variable(name: "unchecked_reason", aliases: ["unchecked"],
                 kind: .enumerated(EnumDomain("reason a message was not checked", UncheckedReason.self)),
                 isSet: true, type: "set of unchecked reason",
                 meaning: "Why the message or a part could not be checked: Timeout, LimitExceeded, Encrypted, Malformed, EngineError; alone: any reason",
                 example: "unchecked_reason in (Timeout, EngineError) : TEMPFAIL") { s, _ in
            s.facts.allUnchecked.map { .enumCase($0.rawValue) }
        },
        Variable(name: "scan_result", kind: .enumerated(EnumDomain("scan result", ScanResult.self)),
                 isSet: false, type: "scan result",
                 meaning: "Clean, Threat (a threat was found) or Unchecked (no threat, but something could not be checked)",
                 example: "scan_result Unchecked : TEMPFAIL") { s, _ in
            [.enumCase(s.facts.scanResult.rawValue)]
        },
        Variable(name: "total_spam_score", aliases: ["spam_score"], kind: .number(sizes: false), isSet: false,
                 type: "number", meaning: "Spam score of the message, 0.0 to 1.0 (absent when not scored)",
                 example: "total_spam_score gt 0.80 : REJECT \"This is a SPAM message\"") { s, _ in
            s.facts.spamScore.map { [.number($0)] } ?? []
        },
        Variable(name: "spam_symbols", aliases: ["spam_symbol"], kind: .text, isSet: true, type: "set of text",
                 meaning: "Names of the anti-spam findings: GTUBE, BAYES_SPAM, BAYES_HAM, URL_HOST_MISMATCH, MIME_HTML_ONLY, ...",
                 example: "spam_symbols in (URL_HOST_MISMATCH, ATTACH_DOUBLE_EXT) : REJECT \"Phishing\"") { s, _ in
            texts(s.facts.spamSymbols)
        },
        Variable(name: "from", aliases: ["sender", "envelope_from", "mail_from"], kind: .text, isSet: false,
                 type: "text", meaning: "Envelope sender (MAIL FROM); empty for the null sender <>",
                 example: "from match \"@example\\\\.com$\" : PASS") { s, _ in
            texts([s.facts.envelopeFrom])
        },
        Variable(name: "to", aliases: ["rcpt", "rcpt_to", "recipient", "envelope_to"], kind: .text, isSet: true,
                 type: "set of text", meaning: "Envelope recipients (RCPT TO)",
                 example: "to in file(\"/etc/moat/no-filter\") : PASS") { s, _ in
            texts(s.facts.envelopeTo)
        },
        Variable(name: "helo", aliases: ["ehlo"], kind: .text, isSet: false, type: "text",
                 meaning: "Name the client gave in HELO/EHLO", example: "helo localhost : REJECT") { s, _ in
            texts([s.facts.helo])
        },
        Variable(name: "auth_user", kind: .text, isSet: false, type: "text",
                 meaning: "User name the client authenticated as (SMTP AUTH); absent when not authenticated",
                 example: "auth_user match \".\" : PASS") { s, _ in
            texts([s.facts.authUser])
        },
        Variable(name: "src_ip", aliases: ["client_ip"], kind: .ip, isSet: false, type: "IP address",
                 meaning: "Client address; values may be networks (10.0.0.0/8); quote IPv6 (\"fe80::/10\")",
                 example: "src_ip in (127.0.0.1, 10.0.0.0/8, \"::1\") : PASS") { s, _ in
            ips(s.facts.clientIP)
        },
        Variable(name: "src_port", aliases: ["client_port"], kind: .number(sizes: false), isSet: false,
                 type: "number", meaning: "Client port", example: "src_port lt 1024 : PASS") { s, _ in
            numbers([s.facts.clientPort])
        },
        Variable(name: "client_hostname", aliases: ["src_host", "client_host"], kind: .text, isSet: false,
                 type: "text", meaning: "Client host name from reverse DNS, if known",
                 example: "client_hostname match \"\\\\.dynamic\\\\.\" : TEMPFAIL") { s, _ in
            texts([s.facts.clientHostname])
        },
        Variable(name: "dst_ip", aliases: ["server_ip"], kind: .ip, isSet: false, type: "IP address",
                 meaning: "Address the client connected to", example: "dst_ip 192.0.2.25 : PASS") { s, _ in
            ips(s.facts.serverIP)
        },
        Variable(name: "dst_port", aliases: ["server_port"], kind: .number(sizes: false), isSet: false,
                 type: "number", meaning: "Port the client connected to", example: "dst_port 587 : PASS") { s, _ in
            numbers([s.facts.serverPort])
        },
        Variable(name: "sni_host", kind: .text, isSet: false, type: "text",
                 meaning: "TLS server name (SNI) the client asked for",
                 example: "sni_host match \"\\\\.bank\\\\.example$\" : SET unwrap_ssl = no") { s, _ in
            texts([s.facts.sniHost])
        },
        Variable(name: "protocol", kind: .enumerated(EnumDomain("protocol", MailProtocol.self)), isSet: false,
                 type: "protocol", meaning: "Smtp, Pop3, Imap (gateway), Milter, Spamd, Rspamd, Clamd (interfaces)",
                 example: "protocol in (Smtp, Pop3, Imap) : SCAN_MAIL") { s, _ in
            s.facts.protocolName.map { [.enumCase($0.rawValue)] } ?? []
        },
        Variable(name: "direction", kind: .enumerated(EnumDomain("direction", Direction.self)), isSet: false,
                 type: "direction", meaning: "Inbound or Outbound", example: "direction Outbound : PASS") { s, _ in
            s.facts.direction.map { [.enumCase($0.rawValue)] } ?? []
        },
        Variable(name: "unwrap_ssl", kind: .bool, isSet: false, settable: true, type: "yes/no",
                 meaning: "The gateway terminates TLS to scan inside; `SET unwrap_ssl = no` changes it",
                 example: "unwrap_ssl, sni_host example.org : SET unwrap_ssl = no") { s, _ in
            [.bool(s.unwrapSslSet ?? s.facts.unwrapSsl)]
        },
        Variable(name: "tls", aliases: ["ssl"], kind: .bool, isSet: false, type: "yes/no",
                 meaning: "The connection is encrypted (TLS or STARTTLS)", example: "not tls, to admin@example.org : TEMPFAIL") { s, _ in
            [.bool(s.facts.tls)]
        },
        Variable(name: "message_id", kind: .text, isSet: false, type: "text",
                 meaning: "Message-ID header value", example: "message_id match \"@spam\\\\.example>$\" : DISCARD") { s, _ in
            texts([s.facts.messageId])
        },
        Variable(name: "subject", kind: .text, isSet: false, type: "text", meaning: "Subject, decoded",
                 example: "subject match \"^\\\\[SPAM\\\\]\" : DISCARD") { s, _ in
            texts([s.facts.subject])
        },
        Variable(name: "header", kind: .text, isSet: true, takesArgument: true, type: "set of text",
                 meaning: "Values of every header field of that name (case-insensitive); absent header: empty set",
                 example: "header(\"List-Id\") match \"announce\" : PASS") { s, name in
            guard let name else { return [] }
            return s.facts.headers.filter { $0.name.caseInsensitiveEquals(name) }.map { .text($0.value) }
        },
        Variable(name: "headers", kind: .text, isSet: true, type: "set of text",
                 meaning: "Every header field as one line `Name: value`",
                 example: "headers match \"^X-Spam-Flag: *YES\" : REJECT") { s, _ in
            s.facts.headers.map { .text("\($0.name): \($0.value)") }
        },
        Variable(name: "body", kind: .text, isSet: false, matchLimit: 1 << 20, type: "text",
                 meaning: "Decoded text of the text parts (regular expressions look at the first 1 MB)",
                 example: "body match (\".*buy.*\") : REJECT \"This is a SPAM message\"") { s, _ in
            [.text(s.facts.bodyText)]
        },
        Variable(name: "message_size", aliases: ["size"], kind: .number(sizes: true), isSet: false, type: "number (bytes)",
                 meaning: "Size of the whole message in bytes; values may use K, M, G (1024-based)",
                 example: "message_size gt 20M : REJECT \"Message too large\"") { s, _ in
            [.number(Double(s.facts.messageSize))]
        },
        Variable(name: "parts_count", aliases: ["part_count"], kind: .number(sizes: false), isSet: false,
                 type: "number", meaning: "Number of MIME leaf parts", example: "parts_count gt 100 : REJECT") { s, _ in
            [.number(Double(s.facts.parts.count))]
        },
        Variable(name: "attachment_name", aliases: ["file_name", "filename"], kind: .text, isSet: true,
                 type: "set of text", meaning: "File names of the parts that have one",
                 example: "attachment_name match \"\\\\.(exe|scr|js)$\" : REPACK(\"executable attachment\")") { s, _ in
            texts(s.facts.parts.map(\.filename))
        },
        Variable(name: "content_type", aliases: ["mime_type"], kind: .text, isSet: true, type: "set of text",
                 meaning: "MIME types of the parts, e.g. application/zip",
                 example: "content_type application/x-msdownload : REJECT") { s, _ in
            s.facts.parts.map { .text($0.contentType) }
        },
        Variable(name: "attachment_size", kind: .number(sizes: true), isSet: true, type: "set of number (bytes)",
                 meaning: "Sizes of the parts that have a file name (gt: any attachment larger)",
                 example: "attachment_size gt 10M : REJECT \"Attachment too large\"") { s, _ in
            s.facts.parts.filter { $0.filename != nil }.map { .number(Double($0.size)) }
        },
        Variable(name: "tag", aliases: ["tags"], kind: .text, isSet: true, settable: true, type: "set of text",
                 meaning: "Tags set by earlier rules with `SET tag = value`",
                 example: "tag trusted : PASS") { s, _ in
            s.tags.map(FactValue.text)
        },
    ]

    static let byName: [String: Variable] = {
        var table: [String: Variable] = [:]
        for v in all {
            for name in [v.name] + v.aliases { table[name] = v }
        }
        return table
    }()

    static func named(_ name: String) -> Variable? { byName[name.lowercased()] }

    static var allNames: [String] { all.flatMap { [$0.name] + $0.aliases } }
}
