/// What sender authentication found, as the rules see it (filled by MailD from SenderAuth).
/// Absent (`MessageFacts.sender == nil`) when the checks are off or the path has no envelope
/// (spamd, clamd): then `spf`, `dkim`, ... hold no value and only their negations match.
public struct SenderFacts: Sendable, Equatable {
    public var spf: SPFOutcome?
    public var heloSpf: SPFOutcome?
    /// One result per DKIM-Signature; `[.none]` when the message has none.
    public var dkim: [DKIMOutcome]
    /// `d=` of the signatures that passed.
    public var dkimPassDomains: [String]
    public var dmarc: DMARCOutcome?
    /// The policy the From domain publishes; nil without a DMARC record.
    public var dmarcPolicy: DMARCPolicyValue?
    public var arc: ARCOutcome?
    /// Per blocklist hit: the zone and each configured meaning of its answer.
    public var dnsbl: [String]
    public var uribl: [String]

    public init(spf: SPFOutcome? = nil, heloSpf: SPFOutcome? = nil, dkim: [DKIMOutcome] = [],
                dkimPassDomains: [String] = [], dmarc: DMARCOutcome? = nil, dmarcPolicy: DMARCPolicyValue? = nil,
                arc: ARCOutcome? = nil, dnsbl: [String] = [], uribl: [String] = []) {
        self.spf = spf
        self.heloSpf = heloSpf
        self.dkim = dkim
        self.dkimPassDomains = dkimPassDomains
        self.dmarc = dmarc
        self.dmarcPolicy = dmarcPolicy
        self.arc = arc
        self.dnsbl = dnsbl
        self.uribl = uribl
    }
}

// The result words of RFC 8601 §2.7, lower case as in Authentication-Results headers (rules
// compare them case-insensitively).

public enum SPFOutcome: String, Sendable, Hashable, CaseIterable {
    case none, neutral, pass, fail, softfail, temperror, permerror
}

public enum DKIMOutcome: String, Sendable, Hashable, CaseIterable {
    case none, pass, fail, policy, neutral, temperror, permerror
}

public enum DMARCOutcome: String, Sendable, Hashable, CaseIterable {
    case none, pass, fail, temperror, permerror
}

public enum DMARCPolicyValue: String, Sendable, Hashable, CaseIterable {
    case none, quarantine, reject
}

public enum ARCOutcome: String, Sendable, Hashable, CaseIterable {
    case none, pass, fail
}
