/// One action of a rule.
enum Action: Sendable, Equatable {
    case final(FinalAction)
    case addHeader(HeaderField)
    case setUnwrapSsl(Bool)
    case addTag(String)
    /// `ADD_AUTH_RESULTS`: MailD adds an Authentication-Results header (RFC 8601) with what
    /// sender authentication found.
    case addAuthenticationResults

    var isFinal: Bool { if case .final = self { true } else { false } }

    /// Action keywords, for parsing and for suggestions.
    static let keywords = ["PASS", "REJECT", "BLOCK", "TEMPFAIL", "DISCARD", "REPACK", "SCAN_MAIL", "ADD_HEADER", "ADD_AUTH_RESULTS", "SET"]
    static let finalKeywords: Set<String> = ["PASS", "REJECT", "BLOCK", "TEMPFAIL", "DISCARD", "REPACK", "SCAN_MAIL"]

    static func keyword(_ word: String) -> String? {
        keywords.first { $0.caseInsensitiveEquals(word) }
    }
}

/// Where a rule set is used; some actions only make sense in one place.
public enum RuleSetKind: Sendable, Equatable {
    /// MailD interfaces (Milter, Spamd, Rspamd): decisions about a message.
    case mail
    /// LinuxFirewall.RuleSet: decisions about a connection passing the Gate; allows `SCAN_MAIL`.
    case firewall
}
