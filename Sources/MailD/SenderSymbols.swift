import AntiSpam
import SenderAuth

/// Sender authentication as anti-spam symbols, so that a forged sender or a listed client
/// moves the spam score even without a rule of the administrator's. The points follow
/// SpamAssassin's and rspamd's defaults in size: a pass lowers the score a little (spammers
/// pass SPF and DKIM for their own domains), a failure of a published policy raises it, a
/// blocklist hit raises it most.
enum SenderSymbols {
    static func symbols(_ auth: SenderAuthentication) -> [SpamReport.Symbol] {
        var out: [SpamReport.Symbol] = []
        func add(_ name: String, _ score: Double, _ description: String) {
            out.append(SpamReport.Symbol(name: name, score: score, description: description))
        }
        if let spf = auth.spf {
            switch spf.result {
            case .pass: add("SPF_PASS", -0.2, "SPF: \(spf.domain) authorises the client")
            case .fail: add("SPF_FAIL", 1.5, "SPF: \(spf.domain) says the client may not send for it")
            case .softfail: add("SPF_SOFTFAIL", 0.7, "SPF: \(spf.domain) says the client is probably not authorised")
            case .permerror: add("SPF_PERMERROR", 0.3, "SPF: the record of \(spf.domain) is broken")
            case .none, .neutral, .temperror: break
            }
        }
        if auth.dkim.contains(where: { $0.result == .pass }) {
            add("DKIM_VALID", -0.2, "DKIM: a valid signature of " + auth.dkim.filter { $0.result == .pass }.map(\.domain).joined(separator: ", "))
        } else if let failed = auth.dkim.first(where: { $0.result == .fail }) {
            add("DKIM_INVALID", 1.0, "DKIM: the signature of \(failed.domain) does not verify")
        }
        if let dmarc = auth.dmarc {
            switch (dmarc.result, dmarc.policy) {
            case (.pass, _): add("DMARC_PASS", -0.5, "DMARC: \(dmarc.fromDomain) aligned and authenticated")
            case (.fail, .reject?): add("DMARC_POLICY_REJECT", 3.0, "DMARC: \(dmarc.fromDomain) fails and asks for rejection")
            case (.fail, .quarantine?): add("DMARC_POLICY_QUARANTINE", 1.5, "DMARC: \(dmarc.fromDomain) fails and asks for quarantine")
            case (.fail, _): add("DMARC_POLICY_NONE", 0.1, "DMARC: \(dmarc.fromDomain) fails, policy none")
            default: break
            }
        }
        if let arc = auth.arc {
            switch arc.result {
            case .pass: add("ARC_VALID", -0.5, "ARC: a valid chain of \(arc.instances) seal(s), last by \(arc.lastSealer)")
            case .fail: add("ARC_INVALID", 0.5, "ARC: the chain does not verify")
            case .none: break
            }
        }
        for hit in auth.dnsbl {
            add("RBL_" + symbolPart(hit.meanings.first ?? hit.zone), 3.0,
                "DNS blocklist \(hit.zone) lists \(hit.listed) (\(hit.codes.joined(separator: ", ")))")
        }
        for hit in auth.uribl {
            add("URIBL_" + symbolPart(hit.meanings.first ?? hit.zone), 3.5,
                "URI blocklist \(hit.zone) lists \(hit.listed) (\(hit.codes.joined(separator: ", ")))")
        }
        return out
    }

    /// `zen.spamhaus.org` → `ZEN_SPAMHAUS_ORG`: a symbol name rules can spell.
    static func symbolPart(_ text: String) -> String {
        String(text.uppercased().unicodeScalars.prefix(40).map { ("A"..."Z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" })
    }
}

extension SpamReport {
    /// The report with more symbols, its points and 0-1 score computed again the engine's way
    /// (`requiredPoints`: the threshold where the score is 0.5).
    func adding(_ extra: [Symbol], requiredPoints: Double) -> SpamReport {
        guard !extra.isEmpty else { return self }
        var symbols = self.symbols + extra
        symbols.sort { $0.score != $1.score ? $0.score > $1.score : $0.name < $1.name }
        let points = symbols.reduce(0) { $0 + $1.score }
        let total = SpamResult.totalSpamScore(points: points, requiredPoints: requiredPoints)
        return SpamReport(points: points, totalSpamScore: total, symbols: symbols, statisticsNote: statisticsNote)
    }
}
