import Crypto
import DNS
import _CryptoExtras

// What DKIM-Signature and ARC-Message-Signature verification share (RFC 6376 §6.1.2-3): the key
// lookup, the body hash, the bottom-up header selection, the RSA/ed25519 check.

enum SignedData {
    /// The hash input of a signature: the fields named in `h=`, each taken bottom-up (a name
    /// listed more often than it appears adds nothing: over-signing), then the signature field
    /// itself with its `b=` value blanked and without its final line break.
    static func headerData(_ sig: MessageSignature, in fields: MessageFields) -> [UInt8] {
        headerData(names: sig.signedHeaders, canon: sig.headerCanon, in: fields,
                   signatureField: fields.bytes[sig.field.range], colon: sig.field.colon,
                   blank: sig.tags.tag("b")?.rawValueRange)
    }

    /// The same for any signature field (one being made is not in the message yet).
    static func headerData(names: [String], canon: Canonicalization, in fields: MessageFields,
                           signatureField: ArraySlice<UInt8>, colon: Int, blank: Range<Int>?) -> [UInt8] {
        var remaining: [String: [RawField]] = [:]
        let wanted = Set(names)
        for f in fields.fields where wanted.contains(f.name) { remaining[f.name, default: []].append(f) }
        var out: [UInt8] = []
        for name in names {
            guard let f = remaining[name]?.popLast() else { continue }
            HeaderCanonicalizer.append(fields.bytes[f.range], colon: f.colon, canon, to: &out)
        }
        HeaderCanonicalizer.append(signatureField, colon: colon, canon, omitting: blank, terminate: false, to: &out)
        return out
    }
}

/// Body hashes by (canonicalization, l=): signatures that agree share one pass over the body.
struct BodyHashCache {
    private struct Key: Hashable { var canon: Canonicalization; var limit: Int? }
    private var done: [Key: (digest: [UInt8], length: Int)] = [:]

    mutating func hash(_ fields: MessageFields, _ canon: Canonicalization, limit: Int?) -> (digest: [UInt8], length: Int) {
        let key = Key(canon: canon, limit: limit)
        if let d = done[key] { return d }
        var hasher = BodyHasher(canon, limit: limit)
        let body = fields.body
        var i = body.startIndex
        while i < body.endIndex {
            let next = min(i + 65536, body.endIndex)
            hasher.update(body[i..<next])
            i = next
        }
        let r = hasher.finish()
        done[key] = (r.digest, r.canonicalLength)
        return (r.digest, r.canonicalLength)
    }

    /// The body check of RFC 6376 §6.1.3: nil when it matches.
    mutating func problem(_ sig: MessageSignature, _ fields: MessageFields) -> SignatureProblem? {
        let h = hash(fields, sig.bodyCanon, limit: sig.bodyLength)
        if let l = sig.bodyLength, l > h.length { return .init(result: .fail, reason: "l= is longer than the body") }
        return h.digest == sig.bodyHash ? nil : .init(result: .fail, reason: "body hash did not verify")
    }
}

/// Fetches `<s>._domainkey.<d>` and parses it (RFC 6376 §6.1.2 steps 1-6).
struct KeyFetcher: Sendable {
    var lookup: any DNSLookup

    func key(selector: String, domain: String) async -> Result<DKIMKeyRecord, SignatureProblem> {
        let answer = await lookup.lookup("\(selector)._domainkey.\(domain)", .txt)
        if case .bogus(let why) = answer.security { return .failure(.init(result: .temperror, reason: "key lookup bogus: \(why)")) }
        switch answer.result {
        case .temporaryFailure(let why): return .failure(.init(result: .temperror, reason: "key lookup failed: \(why)"))
        case .nxdomain, .noData: return .failure(.permerror("no key for signature"))
        case .records:
            let texts = answer.texts
            guard !texts.isEmpty else { return .failure(.permerror("no key for signature")) }
            var firstError: KeyRecordError?
            for text in texts.prefix(4) {
                switch DKIMKeyRecord.parse(text) {
                case .success(let key): return .success(key)
                case .failure(let e): firstError = firstError ?? e
                }
            }
            return .failure(.permerror(firstError?.description ?? "no usable key"))
        }
    }
}

enum SignatureCrypto {
    /// RSA keys below this fail (RFC 8301 §3.2).
    static let minimumRSABits = 1024

    /// Checks `signature` over SHA-256(`data`) with the key: RSASSA-PKCS1-v1_5 (RFC 6376) or
    /// ed25519 over the SHA-256 (RFC 8463 §3).
    static func verify(_ signature: [UInt8], over data: [UInt8], algorithm: SigningAlgorithm,
                       key: DKIMKeyRecord) -> SignatureProblem? {
        guard key.keyType == algorithm.keyType else { return .permerror("key type \(key.keyType.rawValue) does not match a=") }
        if let h = key.hashAlgorithms, !h.contains("sha256") { return .permerror("key does not allow sha256 (h=)") }
        let digest = SHA256.hash(data: data)
        switch algorithm {
        case .rsaSHA256:
            guard let publicKey = RSAPublicKeyDER.publicKey(key.publicKey) else {
                return .permerror("p= is not an RSA public key")
            }
            guard publicKey.keySizeInBits >= minimumRSABits else { return .permerror("RSA key shorter than \(minimumRSABits) bits") }
            let ok = publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                                                for: digest, padding: .insecurePKCS1v1_5)
            return ok ? nil : .init(result: .fail, reason: "signature did not verify")
        case .ed25519SHA256:
            guard key.publicKey.count == 32, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.publicKey) else {
                return .permerror("ed25519 key is not 32 bytes")
            }
            return publicKey.isValidSignature(signature, for: Array(digest)) ? nil : .init(result: .fail, reason: "signature did not verify")
        }
    }
}
