import DNS

/// What the TLSA lookup for an MX host (`_25._tcp.<host>`) means for the upstream
/// connection (RFC 7672 §2.2), like Postfix's `smtp_tls_security_level = dane`:
/// - secure and usable records: verify the server by them (`TLSAEvaluation`), nothing else;
/// - secure, no usable record: TLS required, not authenticated;
/// - bogus, or a failed lookup (the zone may be signed, an attacker may be hiding the
///   records): do not deliver now;
/// - insecure, or securely none: no DANE; the existing verification applies.
public enum DANEPolicy: Sendable, Equatable {
    case verifyByTLSA([TLSAEvaluation.Record])
    case encryptWithoutAuthentication
    case refuse(String)
    case noDANE

    public static func decide(_ answer: DNSAnswer) -> DANEPolicy {
        if case .bogus(let why) = answer.security { return .refuse("TLSA records fail DNSSEC validation: \(why)") }
        switch answer.result {
        case .temporaryFailure(let why):
            return .refuse("TLSA lookup failed: \(why)")
        case .nxdomain, .noData:
            return .noDANE
        case .records(let records):
            guard answer.security == .secure else { return .noDANE }
            let tlsa = TLSAEvaluation.records(records)
            return tlsa.contains(where: \.isUsable) ? .verifyByTLSA(tlsa) : .encryptWithoutAuthentication
        }
    }

    /// The name whose TLSA records apply to an MX host on port 25.
    public static func tlsaName(host: String, port: Int = 25) -> String {
        "_\(port)._tcp.\(DNSName.normalized(host))"
    }
}
