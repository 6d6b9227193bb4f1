@preconcurrency import Crypto
import Foundation
import _CryptoExtras

// The private key of an ARC sealer (or DKIM signer): RSA (RFC 6376, 2048 bits by default) or
// ed25519 (RFC 8463), stored as PKCS#8 PEM, and the TXT record to publish for it.

public enum SigningKey: Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case unreadable(String)
        public var description: String {
            switch self { case .unreadable(let why): "signing key: \(why)" }
        }
    }

    /// A new key: RSA of `rsaBits` (2048 or more) or ed25519.
    public static func generate(_ type: DKIMKeyRecord.KeyType, rsaBits: Int = 2048) throws -> SigningKey {
        switch type {
        case .rsa:
            // Below 2048 bits only for tests of what others still publish (RFC 8301 allows 1024).
            guard rsaBits >= 1024, rsaBits <= 16384, rsaBits % 8 == 0 else {
                throw Failure.unreadable("RSA key size must be a multiple of 8 from 1024 to 16384 bits")
            }
            let size = _RSA.Signing.KeySize(bitCount: rsaBits)
            if rsaBits >= 2048 { return .rsa(try _RSA.Signing.PrivateKey(keySize: size)) }
            return .rsa(try _RSA.Signing.PrivateKey(unsafeKeySize: size))
        case .ed25519:
            return .ed25519(Curve25519.Signing.PrivateKey())
        }
    }

    /// Reads a PEM key: RSA in PKCS#1 or PKCS#8, ed25519 in PKCS#8 (as `openssl genpkey` writes).
    public init(pem: String) throws {
        if let der = Self.der(pem, label: "PRIVATE KEY"), der.count == Self.ed25519Prefix.count + 32,
           der.starts(with: Self.ed25519Prefix) {
            self = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32)))
            return
        }
        do {
            let key = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)
            guard key.keySizeInBits >= 1024 else { throw Failure.unreadable("RSA key shorter than 1024 bits") }
            self = .rsa(key)
        } catch let e as Failure {
            throw e
        } catch {
            throw Failure.unreadable("not an RSA or ed25519 private key in PEM")
        }
    }

    /// PKCS#8 PEM.
    public var pemRepresentation: String {
        switch self {
        case .rsa(let key):
            return key.pkcs8PEMRepresentation
        case .ed25519(let key):
            let der = Self.ed25519Prefix + Array(key.rawRepresentation)
            let lines = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
            return "-----BEGIN PRIVATE KEY-----\n\(lines)\n-----END PRIVATE KEY-----\n"
        }
    }

    public var keyType: DKIMKeyRecord.KeyType {
        switch self {
        case .rsa: .rsa
        case .ed25519: .ed25519
        }
    }

    public var algorithm: SigningAlgorithm {
        switch self {
        case .rsa: .rsaSHA256
        case .ed25519: .ed25519SHA256
        }
    }

    /// `p=`: the RSA SubjectPublicKeyInfo (DER) or the raw ed25519 key, in base64.
    public var publicKeyBase64: String {
        switch self {
        case .rsa(let key): key.publicKey.derRepresentation.base64EncodedString()
        case .ed25519(let key): key.publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// The TXT record to publish at `<selector>._domainkey.<domain>`.
    public var dnsRecord: String { "v=DKIM1; k=\(keyType.rawValue); p=\(publicKeyBase64)" }

    /// The record in zone-file syntax, split in strings of at most 255 bytes (RFC 1035 §3.3.14).
    public func zoneLine(selector: String, domain: String) -> String {
        let text = Array(dnsRecord.utf8)
        let strings = stride(from: 0, to: text.count, by: 250).map {
            "\"" + String(decoding: text[$0..<min($0 + 250, text.count)], as: UTF8.self) + "\""
        }
        return "\(selector)._domainkey.\(domain). IN TXT ( \(strings.joined(separator: " ")) )"
    }

    /// Signs SHA-256(`data`) as `a=` says: RSASSA-PKCS1-v1_5 or ed25519 over the hash (RFC 8463).
    func sign(_ data: [UInt8]) throws -> [UInt8] {
        let digest = SHA256.hash(data: data)
        switch self {
        case .rsa(let key): return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
        case .ed25519(let key): return Array(try key.signature(for: Array(digest)))
        }
    }

    /// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }
    static let ed25519Prefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70,
                                         0x04, 0x22, 0x04, 0x20]

    private static func der(_ pem: String, label: String) -> [UInt8]? {
        let begin = "-----BEGIN \(label)-----", end = "-----END \(label)-----"
        guard let b = pem.range(of: begin), let e = pem.range(of: end, range: b.upperBound..<pem.endIndex) else { return nil }
        return Data(base64Encoded: String(pem[b.upperBound..<e.lowerBound]).withoutWhiteSpace).map(Array.init)
    }
}
