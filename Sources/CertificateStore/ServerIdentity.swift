import Crypto
import Foundation
import SwiftASN1
import X509

/// The certificate and key a TLS server of Moat's own presents (the HTTPS console): either the
/// administrator's files, or a certificate Moat issues with its CA and keeps in a directory
/// of its own (key 0600, directory 0700), reissued when it nears its end, when the CA changed
/// or when it lacks a name asked for.
///
/// The server gets PEM text, never the CA.
public struct ServerIdentity: Sendable {
    /// The server's certificate first, then the CA's when Moat issued it.
    public let certificateChainPEM: [String]
    public let privateKeyPEM: String
    /// For logs: which files, or that Moat issued it.
    public let source: String
    public let notValidAfter: Date

    /// Reissued when fewer days than this remain.
    static let renewBefore: TimeInterval = 30 * 86_400

    /// The administrator's own certificate (PEM, the chain may follow the server's) and key
    /// (PEM, mode 0600 required).
    public static func load(certificatePath: String, keyPath: String) throws -> ServerIdentity {
        try KeyFile.requirePrivate(keyPath)
        let chainText: String
        let keyText: String
        do {
            chainText = try String(contentsOfFile: certificatePath, encoding: .utf8)
            keyText = try String(contentsOfFile: keyPath, encoding: .utf8)
        } catch {
            throw CertificateAuthority.Failure(description: "cannot read \(certificatePath) or \(keyPath): \(error)")
        }
        let chain = PEMBlocks.split(chainText, label: "CERTIFICATE")
        guard let first = chain.first, let certificate = try? Certificate(pemEncoded: first) else {
            throw CertificateAuthority.Failure(description: "\(certificatePath): no PEM certificate in it")
        }
        guard let key = try? Certificate.PrivateKey(pemEncoded: keyText) else {
            throw CertificateAuthority.Failure(description: "\(keyPath): not a PEM private key")
        }
        guard key.publicKey == certificate.publicKey else {
            throw CertificateAuthority.Failure(description: "\(keyPath) is not the key of \(certificatePath)")
        }
        return ServerIdentity(certificateChainPEM: chain, privateKeyPEM: keyText, source: certificatePath,
                              notValidAfter: certificate.notValidAfter)
    }

    /// `directory/<name>.pem` and `<name>.key`, issued by `authority` for `hosts` (DNS names
    /// and IP addresses as text; the wildcards 0.0.0.0 and :: are left out) when missing or
    /// no longer fit.
    public static func loadOrIssue(authority: CertificateAuthority, directory: String, name: String,
                                   hosts: [String], validityDays: Int = 397) throws -> ServerIdentity {
        let certificatePath = "\(directory)/\(name).pem"
        let keyPath = "\(directory)/\(name).key"
        let wildcards: Set<[UInt8]> = [[0, 0, 0, 0], [UInt8](repeating: 0, count: 16)]
        let ips = hosts.compactMap(IPText.bytes).filter { !wildcards.contains($0) }.uniqued()
        let dns = hosts.filter { IPText.bytes($0) == nil && !$0.isEmpty }.map { $0.lowercased() }.uniqued()
        if let kept = try? reuse(certificatePath: certificatePath, keyPath: keyPath, authority: authority,
                                 dnsNames: dns, ipAddresses: ips) {
            return kept
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let key = try KeyFactory.make(authority.keyType == .ecdsaP256 ? .ecdsaP256 : .rsa2048)
        let certificate = try LeafSigning.sign(publicKey: key.publicKey, dnsNames: dns, ipAddresses: ips,
                                               validity: Double(validityDays) * 86_400, authority: authority)
        let keyPEM = try key.serializeAsPEM().pemString
        try KeyFile.writePrivate(keyPEM, to: keyPath)
        let certificatePEM = try certificate.serializeAsPEM().pemString
        try certificatePEM.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        chmod(certificatePath, 0o644)
        return ServerIdentity(certificateChainPEM: [certificatePEM, authority.pem], privateKeyPEM: keyPEM,
                              source: "issued by Moat's CA (\(certificatePath))", notValidAfter: certificate.notValidAfter)
    }

    /// The kept certificate, if it still fits; nil (or a throw) means issue a new one.
    private static func reuse(certificatePath: String, keyPath: String, authority: CertificateAuthority,
                              dnsNames: [String], ipAddresses: [[UInt8]]) throws -> ServerIdentity? {
        guard FileManager.default.fileExists(atPath: certificatePath), FileManager.default.fileExists(atPath: keyPath) else {
            return nil
        }
        try KeyFile.requirePrivate(keyPath)
        let certificatePEM = try String(contentsOfFile: certificatePath, encoding: .utf8)
        let keyPEM = try String(contentsOfFile: keyPath, encoding: .utf8)
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try Certificate.PrivateKey(pemEncoded: keyPEM)
        guard key.publicKey == certificate.publicKey,
              certificate.issuer == authority.certificate.subject,
              authority.certificate.publicKey.isValidSignature(certificate.signature, for: certificate),
              certificate.notValidAfter.timeIntervalSinceNow > renewBefore
        else { return nil }
        var names = Set<String>()
        var addresses = Set<[UInt8]>()
        for entry in (try certificate.extensions.subjectAlternativeNames) ?? SubjectAlternativeNames([]) {
            switch entry {
            case .dnsName(let name): names.insert(name.lowercased())
            case .ipAddress(let bytes): addresses.insert(Array(bytes.bytes))
            default: break
            }
        }
        guard Set(dnsNames).isSubset(of: names), Set(ipAddresses).isSubset(of: addresses) else { return nil }
        return ServerIdentity(certificateChainPEM: [certificatePEM, authority.pem], privateKeyPEM: keyPEM,
                              source: certificatePath, notValidAfter: certificate.notValidAfter)
    }
}

/// The PEM blocks of one kind in a text, each with its BEGIN and END lines.
enum PEMBlocks {
    static func split(_ text: String, label: String) -> [String] {
        let begin = "-----BEGIN \(label)-----", end = "-----END \(label)-----"
        var blocks: [String] = []
        var rest = text[...]
        while let start = rest.range(of: begin), let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex) {
            blocks.append(String(rest[start.lowerBound..<stop.upperBound]) + "\n")
            rest = rest[stop.upperBound...]
        }
        return blocks
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
