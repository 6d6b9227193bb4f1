import Crypto
import Foundation
import SwiftASN1
import X509

/// A server certificate signed by Moat's CA for DNS names and IP addresses: what the Gate's
/// leaves and the console's certificate both are.
enum LeafSigning {
    static func sign(publicKey: Certificate.PublicKey, dnsNames: [String], ipAddresses: [[UInt8]],
                     validity: TimeInterval, authority: CertificateAuthority) throws -> Certificate {
        let now = Date()
        let common = dnsNames.first ?? ipAddresses.first.map(IPText.format) ?? "moat-intercepted"
        let subject = try DistinguishedName { CommonName(common) }
        var sanEntries: [GeneralName] = dnsNames.map { .dnsName($0) }
        sanEntries += ipAddresses.map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        let san = sanEntries
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: authority.certificate.subject,
            subject: subject,
            signatureAlgorithm: KeyFactory.signatureAlgorithm(authority.keyType),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: authority.keyType != .ecdsaP256))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(san)
                if let ski = try? authority.certificate.extensions.subjectKeyIdentifier {
                    AuthorityKeyIdentifier(keyIdentifier: ski.keyIdentifier)
                }
            },
            issuerPrivateKey: authority.privateKey)
    }
}

/// IP addresses as text and as the bytes a certificate carries.
enum IPText {
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func format(_ bytes: [UInt8]) -> String {
        bytes.map(String.init).joined(separator: ".")
    }
}
