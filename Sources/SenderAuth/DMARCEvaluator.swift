import DNS

// RFC 7489 §6.6: the From domain, the policy record (the domain's own, else its organisational
// domain's), identifier alignment with the SPF and DKIM results, and the policy to apply.

public struct DMARCEvaluator: Sendable {
    private let lookup: any DNSLookup
    private let suffixes: PublicSuffixList
    /// A number in 0..<100 per message, for `pct=` sampling (injectable for tests).
    private let sample: @Sendable () -> Int

    public init(lookup: any DNSLookup, suffixes: PublicSuffixList,
                sample: @escaping @Sendable () -> Int = { Int.random(in: 0..<100) }) {
        self.lookup = lookup
        self.suffixes = suffixes
        self.sample = sample
    }

    /// Input: the whole message (the From fields are read from its header), the SPF result for
    /// the envelope sender (its `domain` is the MAIL FROM domain, or the HELO name when the
    /// envelope sender was empty) and the DKIM checks of `DKIMVerifier`.
    public func evaluate(message: [UInt8], spf: SPFCheck?, dkim: [DKIMSignatureCheck]) async -> DMARCCheck {
        await evaluate(MessageFields(message), spf: spf, dkim: dkim)
    }

    /// The same over a header already indexed (`SenderAuthenticator` indexes it once for
    /// DKIM, ARC and DMARC).
    func evaluate(_ fields: MessageFields, spf: SPFCheck?, dkim: [DKIMSignatureCheck]) async -> DMARCCheck {
        let from = fields.fields(named: "from").prefix(8).map { field in
            String(decoding: fields.value(of: field).filter { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        }
        return await evaluate(fromFields: from, spf: spf, dkim: dkim)
    }

    /// The same for a message with one From field whose unfolded value is `fromHeader`.
    public func evaluate(fromHeader: String, spf: SPFCheck?, dkim: [DKIMSignatureCheck]) async -> DMARCCheck {
        await evaluate(fromFields: [fromHeader], spf: spf, dkim: dkim)
    }

    /// The same with the From field values given (unfolded, one entry per From field).
    public func evaluate(fromFields: [String], spf: SPFCheck?, dkim: [DKIMSignatureCheck]) async -> DMARCCheck {
        let fromDomain: String
        switch FromDomain.extract(fromFields) {
        case .problem(let why): return DMARCCheck(result: .permerror, fromDomain: "", reason: why)
        case .domain(let d): fromDomain = d
        }
        let found: (record: DMARCRecord, domain: String)
        switch await discover(fromDomain) {
        case .temporary(let why): return DMARCCheck(result: .temperror, fromDomain: fromDomain, reason: why)
        case .none: return DMARCCheck(result: .none, fromDomain: fromDomain, reason: "no DMARC record")
        case .found(let record, let domain): found = (record, domain)
        }
        let record = found.record
        let dkimAligned = dkim.first { $0.result == .pass && aligned($0.domain, fromDomain, record.dkimAlignment) }
        let spfAligned = spf.map { $0.result == .pass && aligned($0.domain, fromDomain, record.spfAlignment) } ?? false
        var published = record.policy
        if found.domain != fromDomain, let sp = record.subdomainPolicy { published = sp }
        if let d = dkimAligned {
            return DMARCCheck(result: .pass, fromDomain: fromDomain, policyDomain: found.domain, policy: published,
                              reason: "DKIM aligned (d=\(d.domain))")
        }
        if spfAligned {
            return DMARCCheck(result: .pass, fromDomain: fromDomain, policyDomain: found.domain, policy: published,
                              reason: "SPF aligned (\(spf?.domain ?? ""))")
        }
        // An aligned identifier that could not be checked for now (DNS) might have passed:
        // temperror, so that a transient failure never applies a reject policy.
        let dkimTransient = dkim.contains { $0.result == .temperror && aligned($0.domain, fromDomain, record.dkimAlignment) }
        let spfTransient = spf.map { $0.result == .temperror && aligned($0.domain, fromDomain, record.spfAlignment) } ?? false
        if dkimTransient || spfTransient {
            return DMARCCheck(result: .temperror, fromDomain: fromDomain, policyDomain: found.domain, policy: published,
                              reason: "an aligned \(dkimTransient ? "DKIM" : "SPF") check failed for now")
        }
        // §6.6.4: a message outside the pct= sample gets the next policy down.
        var applied = published
        var reason = "neither SPF nor DKIM aligned"
        if record.percent < 100, sample() >= record.percent {
            applied = published == .reject ? .quarantine : .none
            reason += "; outside pct=\(record.percent)"
        }
        return DMARCCheck(result: .fail, fromDomain: fromDomain, policyDomain: found.domain, policy: applied, reason: reason)
    }

    /// Relaxed: the same organisational domain; strict: the same name.
    func aligned(_ domain: String, _ fromDomain: String, _ mode: DMARCRecord.Alignment) -> Bool {
        let d = DomainName.normalized(domain)
        guard !d.isEmpty else { return false }
        switch mode {
        case .strict: return d == fromDomain
        case .relaxed: return suffixes.organizationalDomain(of: d) == suffixes.organizationalDomain(of: fromDomain)
        }
    }

    enum Discovery {
        case found(DMARCRecord, String)
        case none
        case temporary(String)
    }

    /// §6.6.3: `_dmarc.<From domain>`, then `_dmarc.<organisational domain>`.
    func discover(_ fromDomain: String) async -> Discovery {
        var names = [fromDomain]
        let org = suffixes.organizationalDomain(of: fromDomain)
        if org != fromDomain { names.append(org) }
        for name in names {
            let answer = await lookup.lookup("_dmarc.\(name)", .txt)
            if case .bogus(let why) = answer.security { return .temporary("DMARC lookup bogus: \(why)") }
            if case .temporaryFailure(let why) = answer.result { return .temporary("DMARC lookup failed: \(why)") }
            // Only records that start with v=DMARC1 count; several of them count as none.
            let candidates = answer.texts.filter { $0.starts(with: Array("v=DMARC1".utf8)) }
            guard candidates.count == 1 else { continue }
            if let record = DMARCRecord.parse(candidates[0]) { return .found(record, name) }
        }
        return .none
    }
}
