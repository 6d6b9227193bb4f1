import SwiftASN1
import _CryptoExtras

// RSA public keys from DNS (`p=`), made without swift-crypto's DER initialiser: in
// swift-crypto 3.12.3 `_RSA.Signing.PublicKey(derRepresentation:)` frees its BoringSSL key twice
// when the bytes are neither SPKI nor PKCS#1 (the catch frees it, then deinit), which aborts
// the process: one malformed key record would end moatd. SwiftASN1 takes the DER apart; the
// key is built from its modulus and exponent, whose failure path frees once.

enum RSAPublicKeyDER {
    static let rsaEncryption: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 1]

    /// A SubjectPublicKeyInfo (what RFC 6376 publishes) or a bare RSAPublicKey (PKCS#1, which
    /// some signers publish): the key, or nil when the bytes are neither.
    static func publicKey(_ der: [UInt8]) -> _RSA.Signing.PublicKey? {
        guard let root = try? DER.parse(der),
              let (n, e) = (try? subjectPublicKeyInfo(root)) ?? (try? pkcs1(root)),
              n.first != nil, e.first != nil, e.count <= 8 else { return nil }
        return try? _RSA.Signing.PublicKey(n: n, e: e)
    }

    /// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
    static func pkcs1(_ node: ASN1Node) throws -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        try DER.sequence(node, identifier: .sequence) { nodes in
            let n = try ArraySlice<UInt8>(derEncoded: &nodes)
            let e = try ArraySlice<UInt8>(derEncoded: &nodes)
            return (n, e)
        }
    }

    /// SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { RSAPublicKey } }
    static func subjectPublicKeyInfo(_ node: ASN1Node) throws -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        try DER.sequence(node, identifier: .sequence) { nodes in
            guard let algorithm = nodes.next() else { throw ASN1Error.invalidASN1Object(reason: "no algorithm") }
            let oid = try DER.sequence(algorithm, identifier: .sequence) { inner in
                let oid = try ASN1ObjectIdentifier(derEncoded: &inner)
                _ = inner.next()  // the NULL parameters
                return oid
            }
            guard oid == rsaEncryption else { throw ASN1Error.invalidASN1Object(reason: "not an RSA key") }
            let bits = try ASN1BitString(derEncoded: &nodes)
            guard bits.paddingBits == 0 else { throw ASN1Error.invalidASN1Object(reason: "padded key bits") }
            return try pkcs1(try DER.parse(bits.bytes))
        }
    }
}
