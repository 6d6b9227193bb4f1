import DNS

/// `VerifyMxCertificates = Dane` for one port-25 upstream, as Postfix's
/// `smtp_tls_security_level = dane` decides (RFC 7672 §2.2):
///
/// - secure TLSA records that match: trusted, the server proved itself;
/// - secure TLSA records that do not match: refused (never unwrapped with a trusted leaf);
/// - secure TLSA records none of which is usable: encrypted, not authenticated;
/// - a bogus answer, or no answer (time-out, SERVFAIL): refused, as for a failed signature —
///   an attacker who can break DNS must not get a downgrade;
/// - no TLSA record (provably, or in an unsigned zone): opportunistic, as `No` does, with the
///   usual certificate check to tell the client what was proved.
struct DANEPolicy: Sendable {
    enum Decision: Sendable, Equatable {
        case trusted(proved: Bool)
        case refused(String)
    }

    let dns: (any DNSLookup)?
    let trust: UpstreamTrust?

    func evaluate(_ chain: [[UInt8]], hostname: String) async -> Decision {
        guard let dns else { return .trusted(proved: await pkix(chain, hostname: hostname)) }
        let name = "_25._tcp." + DNSName.normalized(hostname)
        let answer = await dns.lookup(name, .tlsa)
        if case .bogus(let why) = answer.security { return .refused("the TLSA answer for \(name) is bogus: \(why)") }
        switch answer.result {
        case .temporaryFailure(let why):
            return .refused("no answer for the TLSA records of \(name): \(why)")
        case .nxdomain, .noData:
            return .trusted(proved: await pkix(chain, hostname: hostname))
        case .records(let records):
            guard answer.security == .secure else {
                // Unsigned TLSA records prove nothing (RFC 7672 §2.2): as if there were none.
                return .trusted(proved: await pkix(chain, hostname: hostname))
            }
            switch await DANEMatcher.match(DANEMatcher.records(records), chain: chain, hostname: hostname) {
            case .verified: return .trusted(proved: true)
            case .noUsableRecords: return .trusted(proved: false)
            case .mismatch(let why): return .refused(why)
            }
        }
    }

    private func pkix(_ chain: [[UInt8]], hostname: String) async -> Bool {
        guard let trust else { return false }
        return await trust.verify(der: chain, hostname: hostname)
    }
}

/// Why a DANE-verified upstream was refused, as the failed handshake's error.
struct DANERefusal: Error, CustomStringConvertible {
    var reason: String
    var description: String { "DANE: \(reason)" }
}
