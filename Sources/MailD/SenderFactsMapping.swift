import Policy
import SenderAuth

/// Sender authentication as the rules see it: the result words, the passing DKIM domains,
/// and each blocklist hit as its zone and its meanings.
extension SenderFacts {
    init(_ auth: SenderAuthentication) {
        self.init(
            spf: auth.spf.flatMap { SPFOutcome(rawValue: $0.result.rawValue) },
            heloSpf: auth.heloSPF.flatMap { SPFOutcome(rawValue: $0.result.rawValue) },
            dkim: auth.dkim.isEmpty ? [.none] : auth.dkim.compactMap { DKIMOutcome(rawValue: $0.result.rawValue) },
            dkimPassDomains: auth.dkim.filter { $0.result == .pass }.map(\.domain),
            dmarc: auth.dmarc.flatMap { DMARCOutcome(rawValue: $0.result.rawValue) },
            dmarcPolicy: auth.dmarc?.policy.flatMap { DMARCPolicyValue(rawValue: $0.rawValue) },
            arc: auth.arc.flatMap { ARCOutcome(rawValue: $0.result.rawValue) },
            dnsbl: Self.values(auth.dnsbl), uribl: Self.values(auth.uribl))
    }

    private static func values(_ hits: [BlocklistHit]) -> [String] {
        var seen = Set<String>()
        return hits.flatMap { [$0.zone] + $0.meanings }.filter { seen.insert($0.lowercased()).inserted }
    }
}
