extension Schema {
    static let mailDSection = SectionSpec(
        "MailD", "The scanning core and the filter interfaces (Milter, Spamd, Rspamd) an MTA calls",
        componentLogging("MailD") + [
            ParameterSpec("TemplatesDir", .path(allowEmpty: false), default: "/usr/share/moat/templates",
                          "Directory of the notification and report templates, one subdirectory per language"),
            ParameterSpec("TemplateContacts", .text, default: "",
                          "Administrator contact text inserted into notifications and reports"),
            ParameterSpec("ReportLanguages", .list(.languageCode, splitsCommas: true), default: "en",
                          "Languages of the report in repacked messages, two-letter codes"),
            ParameterSpec("RepackPassword", .repackPassword, default: "None",
                          "Protection of the archive of removed threats: None, Plain(password) or HMAC(secret)").secret(),
            ParameterSpec("SpamModelMinLearned", .integer(1...1_000_000), default: "200",
                          "Moat: the anti-spam statistical model is used only when at least this many spam and this many ham messages were learned (moat-ctl learn, spamc -L, rspamc learn_spam/learn_ham); until then only the rules score"),
            ParameterSpec("SenderAuthentication", .bool(.yesNo), default: "Yes",
                          "Moat: check SPF, DKIM, DMARC and ARC (and the DnsBlocklists, UriBlocklists) of messages that come with an envelope (Milter, Rspamd, the gateway's SMTP) while they are scanned; the results are rule variables (spf, dkim, dmarc, dmarc_policy, arc, dnsbl, uribl) and anti-spam symbols. No: none of it, no DNS queries"),
            ParameterSpec("AuthServId", .text, default: "",
                          "Moat: the name Moat signs its Authentication-Results headers with (ADD_AUTH_RESULTS, RFC 8601 authserv-id); empty: the host name"),
            ParameterSpec("ArcSealDomain", .text, default: "",
                          "Moat: the domain (d=) Moat ARC-seals the messages it changes with (added headers, repacks; Milter and the gateway), so receivers that trust it keep the sender's authentication (RFC 8617); empty: no seal. `moat-ctl arc-key` makes the key and prints the DNS record to publish"),
            ParameterSpec("ArcSealSelector", .text, default: "moat",
                          "Moat: the selector (s=) of Moat's ARC seals: the key's record is published at <selector>._domainkey.<ArcSealDomain>"),
            ParameterSpec("ArcSealKey", .path(allowEmpty: true), default: "",
                          "Moat: the private key of Moat's ARC seals (PEM, RSA 2048+ or ed25519, mode 0600), as `moat-ctl arc-key` writes it; read at start"),
            ParameterSpec("DnsBlocklists", .text, default: "",
                          "Moat: DNS blocklists asked about the client address (IPv4 reversed octets, IPv6 reversed nibbles): zones separated by commas, each with the meaning of its answers, e.g. zen.example(127.0.0.2:SBL, 127.0.0.4:XBL), bl.example; a code is an address or &N (a bit of the last octet); answers outside 127/8 or in 127.255.255/24 are no listing; empty: none"),
            ParameterSpec("UriBlocklists", .text, default: "",
                          "Moat: URI blocklists asked about the host names of the message's links and their registered domains (address hosts reversed), in the syntax of DnsBlocklists, e.g. multi.uribl.example(&2:black, &4:grey, &8:red); empty: none"),
            ParameterSpec("SpoolThreshold", .size(ByteSize(bytes: 64 * 1024)...ByteSize.megabytes(1024)), default: "16mb",
                          "Moat: messages larger than this are spooled to disk and their parts decoded to files while checked, so memory stays bounded"),
        ]
        + interfaceFamily("Milter", protocolName: "Milter (Postfix smtpd_milters, Sendmail INPUT_MAIL_FILTER)",
                          defaultRules: defaultMilterRules, extra: [
            ParameterSpec("MilterReadTimeout", .duration(.seconds(1)...ConfigDuration.minutes(60)), default: "2m",
                          "Moat: a Milter connection on which the MTA sends nothing for this long (outside a check) is closed, as clamav-milter's ReadTimeout; the MTA then applies its milter default action for the rest of that SMTP session, so set it above Postfix's smtpd_timeout (300s) if clients that pause longer must not be deferred"),
        ])
        + interfaceFamily("Spamd", protocolName: "spamd (Exim spamd_address, spamc)", defaultRules: defaultSpamdRules, extra: [
            ParameterSpec("SpamdSpamThreshold", .decimal(0.1...1000), default: "5.0",
                          "Moat: anti-spam points from which spamd replies say spam (SpamAssassin's required_score; Exim's $spam_score is compared with it)"),
        ])
        + interfaceFamily("Rspamd", protocolName: "rspamd (Exim spamd_address variant=rspamd, rspamc)",
                          defaultRules: defaultSpamdRules, extra: [
            ParameterSpec("RspamdAddHeaderThreshold", .decimal(0.1...1000), default: "5.0",
                          "Moat: anti-spam points from which rspamd replies have the action \"add header\""),
            ParameterSpec("RspamdRejectThreshold", .decimal(0.1...1000), default: "10.0",
                          "Moat: anti-spam points from which rspamd replies have the action \"reject\" (the reply's required_score)"),
        ])
    )

    /// Socket, limits, unchecked policy and rules of one filter interface, declared once.
    /// The socket, cap, unchecked policy and rules form the `FilterInterface` group (typed
    /// settings: `mailD.milter`), the limits the `ScanLimits` group (`mailD.milterScanLimits`).
    static func interfaceFamily(_ prefix: String, protocolName: String, defaultRules: String,
                                extra: [ParameterSpec] = []) -> [ParameterSpec] {
        let group = ParameterGroup(kind: "FilterInterface", prefix: prefix, property: prefix.lowercased())
        return [
            ParameterSpec("\(prefix)Socket", .address, default: "",
                          "Where the \(protocolName) interface listens; empty turns the interface off"),
            ParameterSpec("\(prefix)MaxConnections", .integer(1...65_536), default: "256",
                          "Moat: connections the \(prefix) interface keeps open at once; one more gets a temporary error and is closed (read at start)"),
        ].map { $0.inGroup(group) }
        + extra
        + ScanLimitsSpec.parameters(prefix: prefix, scanTimeout: "3m")
        + [
            ParameterSpec("\(prefix)BlockUnchecked", .bool(.yesNo), default: "No",
                          "Yes: a message that could not be checked is refused (temporary failure) instead of passed"),
            ParameterSpec("\(prefix)RuleSet", .rules, default: defaultRules,
                          "Rules applied to each message checked through the \(prefix) interface"),
        ].map { $0.inGroup(group) }
    }

    // Dr.Web MailD 11.1 decides in Lua hooks; Moat's rule sets use the gateway's rule language
    // instead, with defaults that do what the stock hook does for threats (refuse the known
    // categories) and answer with the texts the seed's Exim configuration matches on.
    static let defaultMilterRules = """
        threat_category in (KnownVirus, VirusModification, UnknownVirus, Adware, Dialer) : REJECT "The message contains a THREAT"
        total_spam_score gt 0.80 : REJECT "This is a SPAM message"
        """

    static let defaultSpamdRules = defaultMilterRules
}
