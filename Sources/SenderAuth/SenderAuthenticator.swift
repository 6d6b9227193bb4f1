import DNS

/// Every sender check MailD runs on a message, over one resolver: SPF for the envelope sender
/// and the HELO name, DKIM, ARC and the blocklists at once, then DMARC from the SPF and DKIM
/// results. The whole is bounded by the caller's deadline (the message's ScanTimeout) and by
/// `timeLimit`: a check that has not finished by then reports `temperror` (blocklists: the
/// hits found so far) and the message is never held up longer.
public struct SenderAuthenticator: SenderAuthenticating {
    let spf: SPFChecker
    let dkim: DKIMVerifier
    let arc: ARCVerifier
    let dmarc: DMARCEvaluator
    let blocklists: BlocklistChecker?
    let timeLimit: Duration

    /// `receiver`: this host's name, for SPF explanations (`%{r}`).
    public init(lookup: any DNSLookup, suffixes: PublicSuffixList, dnsBlocklists: [BlocklistZone] = [],
                uriBlocklists: [BlocklistZone] = [], receiver: String = "unknown", timeLimit: Duration = .seconds(20)) {
        spf = SPFChecker(lookup: lookup, deadline: timeLimit, receiver: receiver)
        dkim = DKIMVerifier(lookup: lookup)
        arc = ARCVerifier(lookup: lookup)
        dmarc = DMARCEvaluator(lookup: lookup, suffixes: suffixes)
        blocklists = dnsBlocklists.isEmpty && uriBlocklists.isEmpty ? nil : BlocklistChecker(
            lookup: lookup, zones: dnsBlocklists, uriZones: uriBlocklists, deadline: timeLimit,
            registeredDomain: { host in
                let domain = suffixes.organizationalDomain(of: host)
                return domain.isEmpty ? nil : domain
            })
        self.timeLimit = timeLimit
    }

    public func authenticate(_ context: SenderContext, deadline: ContinuousClock.Instant) async -> SenderAuthentication {
        let limit = min(timeLimit, max(.zero, deadline - .now))
        let spf = spf, dkim = dkim, arc = arc, dmarc = dmarc, blocklists = blocklists
        let ip = context.clientIP, helo = context.helo ?? "", message = context.message
        return await Deadline.run(limit, on: context.executor, {
            // The header indexed once for DKIM, ARC and DMARC (it was three times a message).
            let fields = MessageFields(message)
            async let mailFromSPF: SPFCheck? = {
                guard let ip, let sender = context.mailFrom else { return nil }
                return await spf.check(ip: ip, sender: sender, helo: helo)
            }()
            async let heloSPF: SPFCheck? = {
                guard let ip, !helo.isEmpty else { return nil }
                return await spf.checkHELO(ip: ip, helo: helo)
            }()
            async let signatures = dkim.verify(fields)
            async let chain = arc.verify(fields)
            async let hits: [BlocklistHit] = blocklists?.check(clientIP: ip, urlHosts: context.urlHosts) ?? []
            let (spfResult, dkimResults) = await (mailFromSPF, signatures)
            let dmarcResult = await dmarc.evaluate(fields, spf: spfResult, dkim: dkimResults)
            let blocklisted = await hits
            let listedURIs = Set(blocklists?.uriZones.map(\.zone) ?? [])
            return SenderAuthentication(
                spf: spfResult, heloSPF: await heloSPF, dkim: dkimResults, dmarc: dmarcResult, arc: await chain,
                dnsbl: blocklisted.filter { !listedURIs.contains($0.zone) },
                uribl: blocklisted.filter { listedURIs.contains($0.zone) })
        }, timedOut: {
            // Past the time limit nothing is known for sure: every check that ran says so.
            SenderAuthentication(
                spf: context.mailFrom.map { SPFCheck(result: .temperror, domain: Self.domain(of: $0, helo: helo), explanation: "time limit") },
                dkim: [], dmarc: nil, arc: nil)
        })
    }

    static func domain(of sender: String, helo: String) -> String {
        guard let at = sender.lastIndex(of: "@") else { return sender.isEmpty ? helo : sender }
        return String(sender[sender.index(after: at)...])
    }
}
