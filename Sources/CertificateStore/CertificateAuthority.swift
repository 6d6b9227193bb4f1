import Crypto
import Foundation
import SwiftASN1
import X509
import _CryptoExtras

/// Moat's CA: the certificate clients and servers are told to trust, and the key that signs
/// leaf certificates for intercepted TLS. Unique per installation: generated on first use
/// and kept in `VarDir/ca` (key 0600, directory 0700), or the administrator's own.
///
/// Trust boundary: only this module reads the CA key; the Gate gets leaf certificates.
public struct CertificateAuthority: Sendable {
    public enum KeyType: String, Sendable, CaseIterable {
        case ecdsaP256 = "EcdsaP256"
        case rsa2048 = "Rsa2048"
        case rsa3072 = "Rsa3072"
    }

    public struct Settings: Sendable {
        public var directory: String
        public var keyType: KeyType
        public var validityDays: Int
        public var subject: String
        /// The administrator's own CA (both set) instead of the generated one.
        public var certificatePath: String?
        public var keyPath: String?

        public init(directory: String, keyType: KeyType = .ecdsaP256, validityDays: Int = 3650,
                    subject: String = "Moat Mail Gateway CA", certificatePath: String? = nil, keyPath: String? = nil) {
            self.directory = directory
            self.keyType = keyType
            self.validityDays = validityDays
            self.subject = subject
            self.certificatePath = certificatePath
            self.keyPath = keyPath
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let certificate: Certificate
    let privateKey: Certificate.PrivateKey
    public let keyType: KeyType
    /// Where the certificate came from, for logs and `appinfo`.
    public let source: String

    public var pem: String { (try? certificate.serializeAsPEM().pemString) ?? "" }

    public var der: [UInt8] {
        var serializer = DER.Serializer()
        try? serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    /// The administrator's CA if configured, else the one in `directory`, created if absent.
    public static func loadOrCreate(_ settings: Settings) throws -> CertificateAuthority {
        if let certPath = settings.certificatePath, let keyPath = settings.keyPath {
            return try load(certificatePath: certPath, keyPath: keyPath, source: certPath)
        }
        let certPath = settings.directory + "/ca.pem"
        let keyPath = settings.directory + "/ca.key"
        if FileManager.default.fileExists(atPath: certPath), FileManager.default.fileExists(atPath: keyPath) {
            return try load(certificatePath: certPath, keyPath: keyPath, source: certPath)
        }
        return try create(settings, certificatePath: certPath, keyPath: keyPath)
    }

    static func load(certificatePath: String, keyPath: String, source: String) throws -> CertificateAuthority {
        try KeyFile.requirePrivate(keyPath)
        let certificate: Certificate
        let key: Certificate.PrivateKey
        do {
            certificate = try Certificate(pemEncoded: String(contentsOfFile: certificatePath, encoding: .utf8))
        } catch {
            throw Failure(description: "\(certificatePath): not a PEM certificate (\(error))")
        }
        do {
            key = try Certificate.PrivateKey(pemEncoded: String(contentsOfFile: keyPath, encoding: .utf8))
        } catch {
            throw Failure(description: "\(keyPath): not a PEM private key (\(error))")
        }
        guard key.publicKey == certificate.publicKey else {
            throw Failure(description: "\(keyPath) is not the key of \(certificatePath)")
        }
        guard let constraints = try? certificate.extensions.basicConstraints, case .isCertificateAuthority = constraints else {
            throw Failure(description: "\(certificatePath) is not a CA certificate (basicConstraints CA:TRUE missing)")
        }
        let type: KeyType = P256.Signing.PublicKey(key.publicKey) != nil ? .ecdsaP256 : .rsa2048
        return CertificateAuthority(certificate: certificate, privateKey: key, keyType: type, source: source)
    }

    static func create(_ settings: Settings, certificatePath: String, keyPath: String) throws -> CertificateAuthority {
        if !FileManager.default.fileExists(atPath: settings.directory) {
            try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            DirectoryOwner.adopt(settings.directory)
        }
        let (certificate, key) = try selfSigned(settings)
        try KeyFile.writePrivate(try key.serializeAsPEM().pemString, to: keyPath)
        try certificate.serializeAsPEM().pemString.write(toFile: certificatePath, atomically: true, encoding: .utf8)
        chmod(certificatePath, 0o644)
        DirectoryOwner.adopt(certificatePath)
        return CertificateAuthority(certificate: certificate, privateKey: key, keyType: settings.keyType,
                                    source: "generated in \(settings.directory)")
    }

    /// A CA made for this process alone, never written anywhere: the "unverified upstream" CA,
    /// which signs the leaves Moat shows for servers it could not verify. Nobody is told to
    /// trust it, so a client that verifies fails exactly as it would have against that server.
    public static func ephemeral(subject: String, keyType: KeyType = .ecdsaP256, validityDays: Int = 3650) throws -> CertificateAuthority {
        let settings = Settings(directory: "", keyType: keyType, validityDays: validityDays, subject: subject)
        let (certificate, key) = try selfSigned(settings)
        return CertificateAuthority(certificate: certificate, privateKey: key, keyType: keyType, source: "made in memory")
    }

    private static func selfSigned(_ settings: Settings) throws -> (Certificate, Certificate.PrivateKey) {
        let key = try KeyFactory.make(settings.keyType)
        let host = ProcessInfo.processInfo.hostName
        let name = try DistinguishedName {
            CommonName("\(settings.subject) (\(host))")
            OrganizationName("Moat")
            // A random unit keeps two installations' CAs apart even on hosts of the same name.
            OrganizationalUnitName("installation \(UUID().uuidString.prefix(8).lowercased())")
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(Double(settings.validityDays) * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: KeyFactory.signatureAlgorithm(settings.keyType),
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        return (certificate, key)
    }
}

enum KeyFactory {
    static func make(_ type: CertificateAuthority.KeyType) throws -> Certificate.PrivateKey {
        switch type {
        case .ecdsaP256: return Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .rsa2048: return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .rsa3072: return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits3072))
        }
    }

    static func signatureAlgorithm(_ type: CertificateAuthority.KeyType) -> Certificate.SignatureAlgorithm {
        type == .ecdsaP256 ? .ecdsaWithSHA256 : .sha256WithRSAEncryption
    }
}

/// Private keys are written 0600 from the start (never world-readable for an instant) and
/// refused when a group or others can read them.
enum KeyFile {
    static func writePrivate(_ text: String, to path: String) throws {
        let temp = path + ".new"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CertificateAuthority.Failure(description: "cannot create \(temp): \(String(cString: strerror(errno)))") }
        DirectoryOwner.adopt(fd, in: (path as NSString).deletingLastPathComponent)
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count, rename(temp, path) == 0 else {
            unlink(temp)
            throw CertificateAuthority.Failure(description: "cannot write \(path)")
        }
    }

    static func requirePrivate(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CertificateAuthority.Failure(description: "\(path) does not exist") }
        guard info.st_mode & 0o077 == 0 else {
            throw CertificateAuthority.Failure(description: "\(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
    }
}
