// What sender authentication concluded about one message, in the result vocabulary of the
// RFCs (RFC 8601 §2.7): the rule variables `spf`, `dkim`, `dmarc`, `dmarc_policy`, `arc`, the
// anti-spam symbols and the Authentication-Results header are all read off these types.

/// RFC 7208 §2.6.
public enum SPFResult: String, Sendable, Hashable, CaseIterable, Codable {
    case none, neutral, pass, fail, softfail, temperror, permerror
}

/// RFC 6376 / RFC 8601 §2.7.1, for one signature.
public enum DKIMResult: String, Sendable, Hashable, CaseIterable, Codable {
    case none, pass, fail, policy, neutral, temperror, permerror
}

/// RFC 7489 §11.2.
public enum DMARCResult: String, Sendable, Hashable, CaseIterable, Codable {
    case none, pass, fail, temperror, permerror
}

/// The policy the author domain publishes (`p=`, or `sp=` for a subdomain), after `pct=`.
public enum DMARCPolicy: String, Sendable, Hashable, CaseIterable, Codable {
    case none, quarantine, reject
}

/// RFC 8617 §4.4: the chain validation status.
public enum ARCResult: String, Sendable, Hashable, CaseIterable, Codable {
    case none, pass, fail
}

/// One SPF check (the envelope sender's domain, or the HELO name).
public struct SPFCheck: Sendable, Hashable, Codable {
    public var result: SPFResult
    /// The domain whose record was evaluated.
    public var domain: String
    /// Why (the mechanism that matched, or the error), for logs and the header's comment.
    public var explanation: String
    /// For a `fail`: the text the domain's `exp=` modifier gave (RFC 7208 §6.2), macros
    /// expanded; the SMTP reply may quote it. nil without one.
    public var exp: String?

    public init(result: SPFResult, domain: String, explanation: String = "", exp: String? = nil) {
        self.result = result
        self.domain = domain
        self.explanation = explanation
        self.exp = exp
    }
}

/// One DKIM-Signature (or ARC-Message-Signature) verified.
public struct DKIMSignatureCheck: Sendable, Hashable, Codable {
    public var result: DKIMResult
    /// `d=`
    public var domain: String
    /// `s=`
    public var selector: String
    /// `a=`, e.g. `rsa-sha256`, `ed25519-sha256`
    public var algorithm: String
    /// The first 8 characters of `b=` (RFC 6008 `header.b`), to tell signatures apart.
    public var signaturePrefix: String
    /// Why it failed or could not be checked.
    public var reason: String
    /// `i=` (default `@` + `d=`), RFC 8601's `header.i`; empty when the signature did not parse.
    public var identity: String
    /// The key record said `t=y` (the signer is testing DKIM).
    public var testing: Bool

    public init(result: DKIMResult, domain: String, selector: String, algorithm: String,
                signaturePrefix: String = "", reason: String = "", identity: String = "", testing: Bool = false) {
        self.result = result
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.signaturePrefix = signaturePrefix
        self.reason = reason
        self.identity = identity
        self.testing = testing
    }
}

public struct DMARCCheck: Sendable, Hashable, Codable {
    public var result: DMARCResult
    /// The RFC5322.From domain.
    public var fromDomain: String
    /// The domain whose record applied (the From domain or its organisational domain).
    public var policyDomain: String
    /// Absent when no record was found.
    public var policy: DMARCPolicy?
    public var reason: String

    public init(result: DMARCResult, fromDomain: String, policyDomain: String = "",
                policy: DMARCPolicy? = nil, reason: String = "") {
        self.result = result
        self.fromDomain = fromDomain
        self.policyDomain = policyDomain
        self.policy = policy
        self.reason = reason
    }
}

public struct ARCCheck: Sendable, Hashable, Codable {
    public var result: ARCResult
    /// The number of ARC sets found (the highest `i=`).
    public var instances: Int
    /// The sealing domain of the newest set.
    public var lastSealer: String
    public var reason: String
    /// The chain failed only because a key lookup failed for now (DNS): RFC 8617 has no
    /// temperror, so `result` is `fail`, but a sealer should not seal such a chain as failed.
    public var temporaryFailure: Bool

    public init(result: ARCResult, instances: Int = 0, lastSealer: String = "", reason: String = "",
                temporaryFailure: Bool = false) {
        self.result = result
        self.instances = instances
        self.lastSealer = lastSealer
        self.reason = reason
        self.temporaryFailure = temporaryFailure
    }
}

/// One blocklist that listed something of the message (the client address or a URL host).
public struct BlocklistHit: Sendable, Hashable, Codable {
    /// The zone as configured, e.g. `zen.spamhaus.org`.
    public var zone: String
    /// What was looked up: an address or a host name.
    public var listed: String
    /// The A records the zone answered (127.0.0.x), as dotted quads.
    public var codes: [String]
    /// The meanings configured for those codes (e.g. `SBL`, `XBL`), or the zone's name.
    public var meanings: [String]

    public init(zone: String, listed: String, codes: [String], meanings: [String]) {
        self.zone = zone
        self.listed = listed
        self.codes = codes
        self.meanings = meanings
    }
}

/// Everything sender authentication found for one message.
public struct SenderAuthentication: Sendable, Hashable, Codable {
    public var spf: SPFCheck?
    public var heloSPF: SPFCheck?
    public var dkim: [DKIMSignatureCheck]
    public var dmarc: DMARCCheck?
    public var arc: ARCCheck?
    public var dnsbl: [BlocklistHit]
    public var uribl: [BlocklistHit]

    public init(spf: SPFCheck? = nil, heloSPF: SPFCheck? = nil, dkim: [DKIMSignatureCheck] = [],
                dmarc: DMARCCheck? = nil, arc: ARCCheck? = nil,
                dnsbl: [BlocklistHit] = [], uribl: [BlocklistHit] = []) {
        self.spf = spf
        self.heloSPF = heloSPF
        self.dkim = dkim
        self.dmarc = dmarc
        self.arc = arc
        self.dnsbl = dnsbl
        self.uribl = uribl
    }

    /// The message's DKIM result as one word: `pass` if any signature passed, else the first
    /// signature's result, `none` without signatures.
    public var dkimSummary: DKIMResult {
        if dkim.contains(where: { $0.result == .pass }) { return .pass }
        return dkim.first?.result ?? .none
    }
}
