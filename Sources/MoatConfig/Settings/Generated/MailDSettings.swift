// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// `[MailD]`: The scanning core and the filter interfaces (Milter, Spamd, Rspamd) an MTA calls.
    public var mailD: MailDSettings { MailDSettings(values: self) }
}

/// `[MailD]`: The scanning core and the filter interfaces (Milter, Spamd, Rspamd) an MTA calls.
public struct MailDSettings: Sendable {
    /// Every parameter's key, for code that names one (restart-only lists, reports).
    public enum Key {
        public static let logLevel = ParameterKey("MailD", "LogLevel")
        public static let log = ParameterKey("MailD", "Log")
        public static let templatesDir = ParameterKey("MailD", "TemplatesDir")
        public static let templateContacts = ParameterKey("MailD", "TemplateContacts")
        public static let reportLanguages = ParameterKey("MailD", "ReportLanguages")
        public static let repackPassword = ParameterKey("MailD", "RepackPassword")
        public static let spamModelMinLearned = ParameterKey("MailD", "SpamModelMinLearned")
        public static let senderAuthentication = ParameterKey("MailD", "SenderAuthentication")
        public static let authServId = ParameterKey("MailD", "AuthServId")
        public static let dnsBlocklists = ParameterKey("MailD", "DnsBlocklists")
        public static let uriBlocklists = ParameterKey("MailD", "UriBlocklists")
        public static let spoolThreshold = ParameterKey("MailD", "SpoolThreshold")
        public static let milterSocket = ParameterKey("MailD", "MilterSocket")
        public static let milterMaxConnections = ParameterKey("MailD", "MilterMaxConnections")
        public static let milterReadTimeout = ParameterKey("MailD", "MilterReadTimeout")
        public static let milterScanTimeout = ParameterKey("MailD", "MilterScanTimeout")
        public static let milterHeuristicAnalysis = ParameterKey("MailD", "MilterHeuristicAnalysis")
        public static let milterPackerMaxLevel = ParameterKey("MailD", "MilterPackerMaxLevel")
        public static let milterArchiveMaxLevel = ParameterKey("MailD", "MilterArchiveMaxLevel")
        public static let milterMailMaxLevel = ParameterKey("MailD", "MilterMailMaxLevel")
        public static let milterContainerMaxLevel = ParameterKey("MailD", "MilterContainerMaxLevel")
        public static let milterMaxCompressionRatio = ParameterKey("MailD", "MilterMaxCompressionRatio")
        public static let milterBlockUnchecked = ParameterKey("MailD", "MilterBlockUnchecked")
        public static let milterRuleSet = ParameterKey("MailD", "MilterRuleSet")
        public static let spamdSocket = ParameterKey("MailD", "SpamdSocket")
        public static let spamdMaxConnections = ParameterKey("MailD", "SpamdMaxConnections")
        public static let spamdSpamThreshold = ParameterKey("MailD", "SpamdSpamThreshold")
        public static let spamdScanTimeout = ParameterKey("MailD", "SpamdScanTimeout")
        public static let spamdHeuristicAnalysis = ParameterKey("MailD", "SpamdHeuristicAnalysis")
        public static let spamdPackerMaxLevel = ParameterKey("MailD", "SpamdPackerMaxLevel")
        public static let spamdArchiveMaxLevel = ParameterKey("MailD", "SpamdArchiveMaxLevel")
        public static let spamdMailMaxLevel = ParameterKey("MailD", "SpamdMailMaxLevel")
        public static let spamdContainerMaxLevel = ParameterKey("MailD", "SpamdContainerMaxLevel")
        public static let spamdMaxCompressionRatio = ParameterKey("MailD", "SpamdMaxCompressionRatio")
        public static let spamdBlockUnchecked = ParameterKey("MailD", "SpamdBlockUnchecked")
        public static let spamdRuleSet = ParameterKey("MailD", "SpamdRuleSet")
        public static let rspamdSocket = ParameterKey("MailD", "RspamdSocket")
        public static let rspamdMaxConnections = ParameterKey("MailD", "RspamdMaxConnections")
        public static let rspamdAddHeaderThreshold = ParameterKey("MailD", "RspamdAddHeaderThreshold")
        public static let rspamdRejectThreshold = ParameterKey("MailD", "RspamdRejectThreshold")
        public static let rspamdScanTimeout = ParameterKey("MailD", "RspamdScanTimeout")
        public static let rspamdHeuristicAnalysis = ParameterKey("MailD", "RspamdHeuristicAnalysis")
        public static let rspamdPackerMaxLevel = ParameterKey("MailD", "RspamdPackerMaxLevel")
        public static let rspamdArchiveMaxLevel = ParameterKey("MailD", "RspamdArchiveMaxLevel")
        public static let rspamdMailMaxLevel = ParameterKey("MailD", "RspamdMailMaxLevel")
        public static let rspamdContainerMaxLevel = ParameterKey("MailD", "RspamdContainerMaxLevel")
        public static let rspamdMaxCompressionRatio = ParameterKey("MailD", "RspamdMaxCompressionRatio")
        public static let rspamdBlockUnchecked = ParameterKey("MailD", "RspamdBlockUnchecked")
        public static let rspamdRuleSet = ParameterKey("MailD", "RspamdRuleSet")
    }

    public let values: ConfigValues

    /// Logging parameters.
    public var logging: LoggingSettings {
        LoggingSettings(place: GroupPlace(values, section: "MailD", prefix: ""))
    }

    /// `TemplatesDir`: Directory of the notification and report templates, one subdirectory per language (default `/usr/share/moat/templates`).
    public var templatesDir: String { values.text(Key.templatesDir) }

    /// `TemplateContacts`: Administrator contact text inserted into notifications and reports (default empty).
    public var templateContacts: String { values.text(Key.templateContacts) }

    /// `ReportLanguages`: Languages of the report in repacked messages, two-letter codes (default `en`).
    public var reportLanguages: [String] { values.texts(Key.reportLanguages) }

    /// `RepackPassword`: Protection of the archive of removed threats: None, Plain(password) or HMAC(secret) (default `None`).
    public var repackPassword: RepackPassword { values.repackPassword(Key.repackPassword) }

    /// `SpamModelMinLearned`: Moat: the anti-spam statistical model is used only when at least this many spam and this many ham messages were learned (moat-ctl learn, spamc -L, rspamc learn_spam/learn_ham); until then only the rules score (default `200`).
    public var spamModelMinLearned: Int { values.integer(Key.spamModelMinLearned) }

    /// `SenderAuthentication`: Moat: check SPF, DKIM, DMARC and ARC (and the DnsBlocklists, UriBlocklists) of messages that come with an envelope (Milter, Rspamd, the gateway's SMTP) while they are scanned; the results are rule variables (spf, dkim, dmarc, dmarc_policy, arc, dnsbl, uribl) and anti-spam symbols. No: none of it, no DNS queries (default `Yes`).
    public var senderAuthentication: Bool { values.bool(Key.senderAuthentication) }

    /// `AuthServId`: Moat: the name Moat signs its Authentication-Results headers with (ADD_AUTH_RESULTS, RFC 8601 authserv-id); empty: the host name (default empty).
    public var authServId: String { values.text(Key.authServId) }

    /// `DnsBlocklists`: Moat: DNS blocklists asked about the client address (IPv4 reversed octets, IPv6 reversed nibbles): zones separated by commas, each with the meaning of its answers, e.g. zen.example(127.0.0.2:SBL, 127.0.0.4:XBL), bl.example; a code is an address or &N (a bit of the last octet); answers outside 127/8 or in 127.255.255/24 are no listing; empty: none (default empty).
    public var dnsBlocklists: String { values.text(Key.dnsBlocklists) }

    /// `UriBlocklists`: Moat: URI blocklists asked about the host names of the message's links and their registered domains (address hosts reversed), in the syntax of DnsBlocklists, e.g. multi.uribl.example(&2:black, &4:grey, &8:red); empty: none (default empty).
    public var uriBlocklists: String { values.text(Key.uriBlocklists) }

    /// `SpoolThreshold`: Moat: messages larger than this are spooled to disk and their parts decoded to files while checked, so memory stays bounded (default `16mb`).
    public var spoolThreshold: ByteSize { values.size(Key.spoolThreshold) }

    /// FilterInterface parameters `Milter*`.
    public var milter: FilterInterfaceSettings {
        FilterInterfaceSettings(place: GroupPlace(values, section: "MailD", prefix: "Milter"))
    }

    /// `MilterReadTimeout`: Moat: a Milter connection on which the MTA sends nothing for this long (outside a check) is closed, as clamav-milter's ReadTimeout; the MTA then applies its milter default action for the rest of that SMTP session, so set it above Postfix's smtpd_timeout (300s) if clients that pause longer must not be deferred (default `2m`).
    public var milterReadTimeout: ConfigDuration { values.duration(Key.milterReadTimeout) }

    /// ScanLimits parameters `Milter*`.
    public var milterScanLimits: ScanLimitsSettings {
        ScanLimitsSettings(place: GroupPlace(values, section: "MailD", prefix: "Milter"))
    }

    /// FilterInterface parameters `Spamd*`.
    public var spamd: FilterInterfaceSettings {
        FilterInterfaceSettings(place: GroupPlace(values, section: "MailD", prefix: "Spamd"))
    }

    /// `SpamdSpamThreshold`: Moat: anti-spam points from which spamd replies say spam (SpamAssassin's required_score; Exim's $spam_score is compared with it) (default `5.0`).
    public var spamdSpamThreshold: Double { values.decimal(Key.spamdSpamThreshold) }

    /// ScanLimits parameters `Spamd*`.
    public var spamdScanLimits: ScanLimitsSettings {
        ScanLimitsSettings(place: GroupPlace(values, section: "MailD", prefix: "Spamd"))
    }

    /// FilterInterface parameters `Rspamd*`.
    public var rspamd: FilterInterfaceSettings {
        FilterInterfaceSettings(place: GroupPlace(values, section: "MailD", prefix: "Rspamd"))
    }

    /// `RspamdAddHeaderThreshold`: Moat: anti-spam points from which rspamd replies have the action "add header" (default `5.0`).
    public var rspamdAddHeaderThreshold: Double { values.decimal(Key.rspamdAddHeaderThreshold) }

    /// `RspamdRejectThreshold`: Moat: anti-spam points from which rspamd replies have the action "reject" (the reply's required_score) (default `10.0`).
    public var rspamdRejectThreshold: Double { values.decimal(Key.rspamdRejectThreshold) }

    /// ScanLimits parameters `Rspamd*`.
    public var rspamdScanLimits: ScanLimitsSettings {
        ScanLimitsSettings(place: GroupPlace(values, section: "MailD", prefix: "Rspamd"))
    }
}
