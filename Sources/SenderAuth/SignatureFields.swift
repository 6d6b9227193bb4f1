import Foundation

// The tags of a DKIM-Signature (RFC 6376 §3.5) and of the ARC-Message-Signature, which has the
// same tags with `i=` as the ARC instance (RFC 8617 §4.1.2), checked as RFC 6376 §6.1.1 says.

public enum SigningAlgorithm: String, Sendable, Hashable {
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    var keyType: DKIMKeyRecord.KeyType {
        switch self {
        case .rsaSHA256: .rsa
        case .ed25519SHA256: .ed25519
        }
    }
}

/// Why a signature could not be checked, and the result that gives.
struct SignatureProblem: Error, Sendable {
    var result: DKIMResult
    var reason: String
    static func permerror(_ reason: String) -> SignatureProblem { .init(result: .permerror, reason: reason) }
}

/// A parsed DKIM-Signature or ARC-Message-Signature.
struct MessageSignature: Sendable {
    enum Kind { case dkim, arcMessage }

    var field: RawField
    /// The tags, their value ranges in the message bytes.
    var tags: TagList
    var algorithm: SigningAlgorithm
    var signature: [UInt8]
    var bodyHash: [UInt8]
    var headerCanon: Canonicalization
    var bodyCanon: Canonicalization
    var domain: String
    var selector: String
    /// `h=`, lower-cased, in order.
    var signedHeaders: [String]
    /// DKIM: `i=` (default `@d`); ARC: empty.
    var identity: String
    /// ARC: the instance.
    var instance: Int
    var bodyLength: Int?
    var timestamp: Int?
    var expiration: Int?

    /// The start of `b=` as written, for RFC 6008's `header.b`.
    var signaturePrefix: String { String((tags["b"] ?? "").withoutWhiteSpace.prefix(8)) }

    /// The fields every check reports, even for a signature that did not parse.
    static func labels(_ tags: TagList?) -> (domain: String, selector: String, algorithm: String, b: String) {
        (tags?["d"] ?? "", tags?["s"] ?? "", tags?["a"] ?? "", String((tags?["b"] ?? "").withoutWhiteSpace.prefix(8)))
    }

    static func parse(_ field: RawField, in fields: MessageFields, kind: Kind, now: Int) throws(SignatureProblem) -> MessageSignature {
        let tags: TagList
        do { tags = try TagList.parse(fields.value(of: field)) } catch { throw .permerror(error.description) }
        func required(_ name: String) throws(SignatureProblem) -> String {
            guard let v = tags[name] else { throw .permerror("missing \(name)= tag") }
            return v
        }
        switch kind {
        case .dkim:
            guard try required("v") == "1" else { throw .permerror("unsupported version v=\(tags["v"] ?? "")") }
        case .arcMessage:
            break
        }
        let a = try required("a").lowercased()
        guard let algorithm = SigningAlgorithm(rawValue: a) else {
            if a == "rsa-sha1" { throw SignatureProblem(result: .policy, reason: "rsa-sha1 is not accepted (RFC 8301)") }
            throw .permerror("unknown algorithm a=\(a)")
        }
        guard let signature = Data(base64Encoded: try required("b").withoutWhiteSpace), !signature.isEmpty else {
            throw .permerror("b= is not base64")
        }
        guard let bodyHash = Data(base64Encoded: try required("bh").withoutWhiteSpace), bodyHash.count == 32 else {
            throw .permerror("bh= is not a base64 SHA-256")
        }
        guard let (headerCanon, bodyCanon) = Canonicalization.pair(tags["c"]) else {
            throw .permerror("unknown canonicalization c=\(tags["c"] ?? "")")
        }
        let domain = DomainName.normalized(try required("d"))
        guard DomainName.isValid(domain) else { throw .permerror("d= is not a domain name") }
        let selector = DomainName.normalized(try required("s"))
        guard DomainName.isValid(selector), selector.utf8.count + domain.utf8.count + 12 <= 253 else {
            throw .permerror("s= is not a selector")
        }
        let signedHeaders = try required("h").split(separator: ":").map {
            String($0).withoutWhiteSpace.lowercased()
        }
        guard !signedHeaders.isEmpty, !signedHeaders.contains(where: \.isEmpty) else { throw .permerror("h= is empty") }
        var identity = ""
        var instance = 0
        switch kind {
        case .dkim:
            // RFC 6376 §6.1.1: From must be signed; i= must be within d=.
            guard signedHeaders.contains("from") else { throw .permerror("From is not signed") }
            identity = tags["i"] ?? "@\(domain)"
            guard let at = identity.lastIndex(of: "@") else { throw .permerror("i= has no @") }
            let idDomain = DomainName.normalized(String(identity[identity.index(after: at)...]))
            guard DomainName.isSameOrSubdomain(idDomain, of: domain) else {
                throw .permerror("i= domain is not d= or under it")
            }
            if let q = tags["q"], !q.split(separator: ":").contains(where: { $0.trimmingCharacters(in: .whitespaces).lowercased() == "dns/txt" }) {
                throw .permerror("unsupported query method q=\(q)")
            }
        case .arcMessage:
            guard let i = tags["i"].flatMap({ Int($0) }), (1...ARCLimits.maxInstance).contains(i) else {
                throw .permerror("bad instance i=")
            }
            instance = i
        }
        var bodyLength: Int?
        if let l = tags["l"] {
            guard l.count <= 15, let n = Int(l), n >= 0 else { throw .permerror("bad l=") }
            bodyLength = n
        }
        let timestamp = try number(tags["t"], "t")
        let expiration = try number(tags["x"], "x")
        if let x = expiration {
            if let t = timestamp, x < t { throw .permerror("x= is before t=") }
            if x < now { throw SignatureProblem(result: .fail, reason: "signature expired") }
        }
        return MessageSignature(
            field: field, tags: tags, algorithm: algorithm, signature: Array(signature), bodyHash: Array(bodyHash),
            headerCanon: headerCanon, bodyCanon: bodyCanon, domain: domain, selector: selector,
            signedHeaders: signedHeaders, identity: identity, instance: instance, bodyLength: bodyLength,
            timestamp: timestamp, expiration: expiration)
    }

    private static func number(_ text: String?, _ name: String) throws(SignatureProblem) -> Int? {
        guard let text else { return nil }
        // RFC 6376: up to 12 digits; more would overflow nothing but means nothing either.
        guard !text.isEmpty, text.count <= 12, text.allSatisfy(\.isASCIIDigit), let n = Int(text) else {
            throw .permerror("bad \(name)=")
        }
        return n
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

/// Domain-name checks the signatures and DMARC share.
enum DomainName {
    /// Without the white space around it, in lower case, without trailing dots.
    static func normalized(_ name: String) -> String {
        if let ascii = asciiNormalized(name) { return ascii }
        var n = name.trimmingCharacters(in: .whitespaces).lowercased()
        while n.hasSuffix(".") { n.removeLast() }
        return n
    }

    /// The same for an ASCII name, on its bytes: Foundation's trimming bridges to NSString, a
    /// fifth of sender authentication's instructions per message when every name went there.
    /// ASCII's `.whitespaces` are space and tab.
    private static func asciiNormalized(_ name: String) -> String? {
        var name = name
        return name.withUTF8 { bytes -> String? in
            var start = 0, end = bytes.count
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            var dotless = end
            while dotless > start, bytes[dotless - 1] == UInt8(ascii: ".") { dotless -= 1 }
            var ascii = true
            let text = String(unsafeUninitializedCapacity: dotless - start) { out in
                for i in start..<dotless {
                    let byte = bytes[i]
                    if byte >= 0x80 { ascii = false }
                    out[i - start] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                }
                return dotless - start
            }
            return ascii ? text : nil
        }
    }

    /// Labels of letters, digits, `-` and `_` (selectors and `_dmarc`), 1-63 bytes, 253 in all;
    /// UTF-8 labels are let through (an internationalised name a signer wrote as U-labels).
    static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63 else { return false }
            for c in label.utf8 where !(c >= 0x80 || c == 0x2D || c == 0x5F || (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A)) {
                return false
            }
        }
        return true
    }

    static func isSameOrSubdomain(_ name: String, of parent: String) -> Bool {
        name == parent || name.hasSuffix("." + parent)
    }
}
