// The one question the rest of Moat asks DNS. SPF, DKIM, DMARC, ARC, the blocklists and DANE
// all take a `DNSLookup`; the daemon gives them the validating resolver, unit tests a `DNSTable`.

/// Resolves one name and type. Implementations never throw: every failure is an answer
/// (`.temporaryFailure`), because every caller must turn it into a protocol result
/// (SPF's `temperror`, DKIM's `temperror`, a blocklist that did not answer).
public protocol DNSLookup: Sendable {
    func lookup(_ name: String, _ type: DNSRecordType) async -> DNSAnswer
}

public enum DNSRecordType: String, Sendable, Hashable, CaseIterable {
    case a = "A"
    case aaaa = "AAAA"
    case txt = "TXT"
    case mx = "MX"
    case ptr = "PTR"
    case tlsa = "TLSA"
    case cname = "CNAME"
}

/// One record of an answer, already decoded from wire format.
public enum DNSRecord: Sendable, Hashable {
    /// Four bytes, network order.
    case a([UInt8])
    /// Sixteen bytes, network order.
    case aaaa([UInt8])
    /// The character-strings of one TXT record, in order, as bytes (RFC 7208 and RFC 6376
    /// join them without separators; keeping them apart lets each caller decide).
    case txt([[UInt8]])
    case mx(preference: UInt16, exchange: String)
    case ptr(String)
    case tlsa(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8])
    case cname(String)
}

/// How far the answer can be trusted (RFC 4033 terms, as a validating resolver reports them).
public enum DNSSecurity: Sendable, Hashable {
    /// Signed and the chain of trust validated.
    case secure
    /// Provably unsigned, or no trust anchor configured.
    case insecure
    /// Signed but the validation failed: treat like no answer at all (RFC 7672 §2.1.1).
    case bogus(String)
}

public struct DNSAnswer: Sendable, Hashable {
    public enum Result: Sendable, Hashable {
        /// The name exists and has records of the type (possibly after CNAMEs).
        case records([DNSRecord])
        /// The name does not exist.
        case nxdomain
        /// The name exists without records of the type.
        case noData
        /// Time-out, SERVFAIL, a truncated or malformed answer, a loop: ask again later.
        case temporaryFailure(String)
    }

    public var result: Result
    public var security: DNSSecurity
    /// Seconds the answer may be cached (the smallest TTL of its records).
    public var ttl: UInt32

    public init(_ result: Result, security: DNSSecurity = .insecure, ttl: UInt32 = 0) {
        self.result = result
        self.security = security
        self.ttl = ttl
    }

    /// The records, or none when the answer is a negative or a failure.
    public var records: [DNSRecord] {
        if case .records(let list) = result { return list }
        return []
    }

    /// TXT records with their strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    public var texts: [[UInt8]] {
        records.compactMap { if case .txt(let strings) = $0 { return strings.flatMap { $0 } } else { return nil } }
    }

    public var isTemporaryFailure: Bool {
        if case .temporaryFailure = result { return true }
        return false
    }
}
