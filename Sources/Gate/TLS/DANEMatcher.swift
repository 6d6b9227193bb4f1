import Crypto
import DNS
import Foundation
import SwiftASN1
import X509

/// RFC 7672 (SMTP security via opportunistic DANE TLS): whether a server's certificate chain
/// matches the TLSA records published, securely, for it.
///
/// Only what RFC 7672 §3.1 lets an SMTP client use: DANE-TA(2) and DANE-EE(3), selectors
/// Cert(0) and SPKI(1), matching Full(0), SHA2-256(1), SHA2-512(2). PKIX-TA(0) and PKIX-EE(1)
/// records are unusable for SMTP (there is no agreed set of roots among MTAs).
enum DANEMatcher {
    enum Outcome: Sendable, Equatable {
        /// A usable record matched: DANE-EE on the leaf, or DANE-TA with the chain to it and the name.
        case verified(String)
        /// Usable records exist and none matched: the server must not be trusted (nor laundered).
        case mismatch(String)
        /// No usable record: RFC 7672 §2.2, encrypted but unauthenticated.
        case noUsableRecords
    }

    struct Record: Sendable, Equatable {
        var usage: UInt8
        var selector: UInt8
        var matchingType: UInt8
        var data: [UInt8]

        var isUsable: Bool { (usage == 2 || usage == 3) && selector <= 1 && matchingType <= 2 && !data.isEmpty }
    }

    static func records(_ answer: [DNSRecord]) -> [Record] {
        answer.compactMap {
            if case .tlsa(let usage, let selector, let matchingType, let data) = $0 {
                return Record(usage: usage, selector: selector, matchingType: matchingType, data: data)
            }
            return nil
        }
    }

    /// `chain` leaf first, DER, as the server sent it. `hostname`: the MX host name (the TLSA
    /// base domain), the reference identifier DANE-TA checks.
    static func match(_ published: [Record], chain: [[UInt8]], hostname: String, now: Date = Date()) async -> Outcome {
        let usable = published.filter(\.isUsable)
        guard !usable.isEmpty else { return .noUsableRecords }
        let certificates = chain.compactMap { try? Certificate(derEncoded: $0) }
        guard let leafDER = chain.first, let leaf = certificates.first, certificates.count == chain.count else {
            return .mismatch("the server's certificate chain does not parse")
        }
        // DANE-EE: the leaf itself; no name or validity checks (RFC 7672 §3.1.1).
        for record in usable where record.usage == 3 {
            if let selected = selected(record.selector, der: leafDER, certificate: leaf), matches(record, selected) {
                return .verified("DANE-EE(3) \(record.selector) \(record.matchingType)")
            }
        }
        // DANE-TA: a certificate of the chain is the trust anchor; the leaf must chain to it
        // and name the host (RFC 7672 §3.1.2).
        for record in usable where record.usage == 2 {
            for (der, certificate) in zip(chain, certificates) {
                guard let selected = selected(record.selector, der: der, certificate: certificate), matches(record, selected) else { continue }
                var verifier = Verifier(rootCertificates: CertificateStore([certificate])) {
                    RFC5280Policy(validationTime: now)
                    ServerIdentityPolicy(serverHostname: hostname, serverIP: nil)
                }
                let result = await verifier.validate(leafCertificate: leaf, intermediates: CertificateStore(certificates.dropFirst()))
                if case .validCertificate = result { return .verified("DANE-TA(2) \(record.selector) \(record.matchingType)") }
            }
        }
        return .mismatch("no TLSA record of \(hostname) matches the server's certificate")
    }

    /// The bytes a record's selector names: the whole certificate or its SubjectPublicKeyInfo.
    static func selected(_ selector: UInt8, der: [UInt8], certificate: Certificate) -> [UInt8]? {
        switch selector {
        case 0: return der
        case 1:
            var serializer = DER.Serializer()
            guard (try? serializer.serialize(certificate.publicKey)) != nil else { return nil }
            return serializer.serializedBytes
        default: return nil
        }
    }

    static func matches(_ record: Record, _ selected: [UInt8]) -> Bool {
        switch record.matchingType {
        case 0: return selected == record.data
        case 1: return Array(SHA256.hash(data: selected)) == record.data
        case 2: return Array(SHA512.hash(data: selected)) == record.data
        default: return false
        }
    }
}
