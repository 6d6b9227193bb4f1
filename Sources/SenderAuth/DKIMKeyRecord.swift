import Foundation

// RFC 6376 §3.6.1 key records (`<s>._domainkey.<d>` TXT), with RFC 8463's ed25519 keys.

public struct DKIMKeyRecord: Sendable, Hashable {
    public enum KeyType: String, Sendable, Hashable {
        case rsa, ed25519
    }

    public var keyType: KeyType
    /// `p=` decoded: an RSA SubjectPublicKeyInfo (or PKCS#1) in DER, or 32 raw ed25519 bytes.
    public var publicKey: [UInt8]
    /// `h=`: the hash algorithms allowed, nil for all.
    public var hashAlgorithms: [String]?
    /// `t=y`: the domain is testing DKIM (reported; the result is not changed, RFC 6376 §3.6.1).
    public var testing: Bool
    /// `t=s`: `i=` must be in `d=` itself, not a subdomain.
    public var strictIdentity: Bool

    /// Parses a key record; the error text is the permerror's reason.
    public static func parse(_ text: [UInt8]) -> Result<DKIMKeyRecord, KeyRecordError> {
        let tags: TagList
        do { tags = try TagList.parse(ArraySlice(text)) } catch { return .failure(.init("key record: \(error.description)")) }
        // v=, when present, must be the first tag and DKIM1.
        if let v = tags.tag("v") {
            guard tags.tags.first?.name == "v", v.value == "DKIM1" else { return .failure(.init("key record version is not DKIM1")) }
        }
        let k = (tags["k"] ?? "rsa").lowercased()
        guard let keyType = KeyType(rawValue: k) else { return .failure(.init("unknown key type k=\(k)")) }
        let hashAlgorithms = tags["h"].map { $0.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
        if let services = tags["s"] {
            let list = services.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard list.contains("*") || list.contains("email") else { return .failure(.init("key not for email (s=\(services))")) }
        }
        let flags = (tags["t"] ?? "").split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let p = tags["p"] else { return .failure(.init("key record without p=")) }
        let compact = p.withoutWhiteSpace
        guard !compact.isEmpty else { return .failure(.init("key revoked")) }
        guard let key = Data(base64Encoded: compact), !key.isEmpty else { return .failure(.init("p= is not base64")) }
        return .success(DKIMKeyRecord(keyType: keyType, publicKey: Array(key), hashAlgorithms: hashAlgorithms,
                                      testing: flags.contains("y"), strictIdentity: flags.contains("s")))
    }

    public static func parse(_ text: String) -> Result<DKIMKeyRecord, KeyRecordError> { parse(Array(text.utf8)) }
}

public struct KeyRecordError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
