import Crypto
import DNS
import Foundation
import SwiftASN1
import X509

/// Whether a server's certificate chain matches its TLSA records, as RFC 7672 (SMTP) reads
/// RFC 6698/7671:
/// - DANE-EE (3): the leaf's certificate or public key matches; nothing else is checked (no
///   name, no expiry, no chain: the DNSSEC-signed record is the trust).
/// - DANE-TA (2): a certificate the server sent above the leaf matches; the leaf must then
///   chain to it (RFC 5280, validity) and name one of the reference identifiers (the MX host
///   name and the TLSA base domain, RFC 7672 §3.2.2).
/// - PKIX-TA (0) and PKIX-EE (1) are not used for SMTP (§3.1.3), nor unknown selectors or
///   matching types: such records are unusable.
public enum TLSAEvaluation {
    public enum Verdict: Sendable, Equatable {
        /// A usable record matched (its usage, 2 or 3).
        case matched(usage: UInt8)
        /// Usable records exist and none matched: the server must not get the message.
        case mismatch(String)
        /// No record is usable: TLS is still required, but cannot be authenticated.
        case noUsableRecords
    }

    public struct Record: Sendable, Hashable {
        public var usage: UInt8
        public var selector: UInt8
        public var matchingType: UInt8
        public var data: [UInt8]

        public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
            self.usage = usage
            self.selector = selector
            self.matchingType = matchingType
            self.data = data
        }

        var isUsable: Bool {
            (usage == 2 || usage == 3) && selector <= 1 && matchingType <= 2
                && (matchingType != 1 || data.count == 32) && (matchingType != 2 || data.count == 64)
        }

        /// Whether `certificate` is what this record names.
        func matches(_ certificate: Certificate) -> Bool {
            guard let selected = try? TLSAEvaluation.selected(certificate, selector) else { return false }
            switch matchingType {
            case 0: return selected == data
            case 1: return Array(SHA256.hash(data: selected)) == data
            default: return Array(SHA512.hash(data: selected)) == data
            }
        }
    }

    /// The TLSA records among DNS records.
    public static func records(_ dns: [DNSRecord]) -> [Record] {
        dns.compactMap { record in
            if case .tlsa(let usage, let selector, let matching, let data) = record {
                return Record(usage: usage, selector: selector, matchingType: matching, data: data)
            }
            return nil
        }
    }

    /// `chain` is leaf first, as the server sent it (DER); `hostnames` the reference
    /// identifiers for DANE-TA.
    public static func evaluate(_ records: [Record], chain: [[UInt8]], hostnames: [String],
                                now: Date = Date()) async -> Verdict {
        let usable = records.filter(\.isUsable)
        guard !usable.isEmpty else { return .noUsableRecords }
        let certificates = chain.compactMap { try? Certificate(derEncoded: $0) }
        guard let leaf = certificates.first, certificates.count == chain.count else {
            return .mismatch("the server's certificate chain does not parse")
        }
        if usable.contains(where: { $0.usage == 3 && $0.matches(leaf) }) { return .matched(usage: 3) }
        for record in usable where record.usage == 2 {
            for index in certificates.indices.dropFirst() where record.matches(certificates[index]) {
                if await chains(leaf, to: certificates[index], through: Array(certificates[1..<index]),
                                names: hostnames, now: now) {
                    return .matched(usage: 2)
                }
            }
        }
        return .mismatch("no TLSA record matches the server's certificate chain")
    }

    static func chains(_ leaf: Certificate, to anchor: Certificate, through intermediates: [Certificate],
                       names: [String], now: Date) async -> Bool {
        for name in names {
            var verifier = Verifier(rootCertificates: X509.CertificateStore([anchor])) {
                RFC5280Policy(validationTime: now)
                ServerIdentityPolicy(serverHostname: name, serverIP: nil)
            }
            let result = await verifier.validate(leafCertificate: leaf, intermediates: X509.CertificateStore(intermediates))
            if case .validCertificate = result { return true }
        }
        return false
    }

    /// Selector 0: the whole certificate (DER); 1: its SubjectPublicKeyInfo (DER).
    public static func selected(_ certificate: Certificate, _ selector: UInt8) throws -> [UInt8] {
        var serializer = DER.Serializer()
        if selector == 0 {
            try serializer.serialize(certificate)
        } else {
            try serializer.serialize(certificate.publicKey)
        }
        return serializer.serializedBytes
    }
}
