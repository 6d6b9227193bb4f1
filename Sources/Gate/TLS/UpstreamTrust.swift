import Foundation
import NIOCore
import NIOSSL
import SwiftASN1
import Synchronization
import X509

/// Verifies an upstream certificate chain without refusing it: used where TLS to the server is
/// opportunistic (port 25 with `VerifyMxCertificates = No`), so that Moat still knows whether
/// the server proved the name, and signs the client's leaf with its trusted CA only if it did.
/// The same roots as the verifying connections (system store or the given ones, plus
/// `UpstreamCaCertificates`), with swift-certificates' RFC 5280 and server identity policies.
final class UpstreamTrust: Sendable {
    private let roots: X509.CertificateStore

    init(trustRoots: NIOSSLTrustRoots, additional: [String]) {
        var certificates: [Certificate] = []
        switch trustRoots {
        case .default:
            for bundle in ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"] {
                certificates += Self.pemFile(bundle)
            }
        case .file(let path):
            certificates += Self.pemFile(path)
        case .certificates(let list):
            certificates += list.compactMap { try? Certificate(derEncoded: $0.toDERBytes()) }
        @unknown default:
            break
        }
        for path in additional { certificates += Self.pemFile(path) }
        roots = X509.CertificateStore(certificates)
    }

    static func pemFile(_ path: String) -> [Certificate] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let documents = try? PEMDocument.parseMultiple(pemString: text) else { return [] }
        return documents.compactMap { try? Certificate(derEncoded: $0.derBytes) }
    }

    /// Whether `chain` (leaf first, as the server sent it) chains to the roots and names
    /// `hostname` (nil: the chain alone).
    func verify(_ chain: [NIOSSLCertificate], hostname: String?) async -> Bool {
        await verify(der: chain.compactMap { try? $0.toDERBytes() }, hostname: hostname)
    }

    func verify(der chain: [[UInt8]], hostname: String?) async -> Bool {
        let parsed = chain.compactMap { try? Certificate(derEncoded: $0) }
        guard let leaf = parsed.first, parsed.count == chain.count else { return false }
        var verifier = Verifier(rootCertificates: roots) {
            RFC5280Policy(validationTime: Date())
            ServerIdentityPolicy(serverHostname: hostname, serverIP: nil)
        }
        let result = await verifier.validate(leafCertificate: leaf, intermediates: X509.CertificateStore(parsed.dropFirst()))
        if case .validCertificate = result { return true }
        return false
    }
}

/// What the opportunistic (or DANE) handshake found, read once the handshake is done.
final class UpstreamVerification: Sendable {
    private let result = Mutex<(verified: Bool, refusal: String?)>((false, nil))
    var verified: Bool { result.withLock { $0.verified } }
    /// Why DANE refused the server, for the log line of the failed handshake.
    var refusal: String? { result.withLock { $0.refusal } }
    func record(_ verified: Bool) { result.withLock { $0.verified = verified } }
    func refuse(_ reason: String) { result.withLock { $0 = (false, reason) } }
}
