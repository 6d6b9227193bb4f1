import DNS
import Foundation

// RFC 8617 §5.2: validating the ARC chain of a message.

/// Verifies the ARC chain of one message.
///
/// Input: the whole message as it arrived (header and body, CRLF or bare LF line ends).
public struct ARCVerifier: Sendable {
    private let keys: KeyFetcher
    private let now: @Sendable () -> Int

    public init(lookup: any DNSLookup, now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.keys = KeyFetcher(lookup: lookup)
        self.now = now
    }

    public func verify(message: [UInt8]) async -> ARCCheck {
        await verify(MessageFields(message))
    }

    func verify(_ fields: MessageFields) async -> ARCCheck {
        let sets: ARCSets
        switch ARCSets.collect(fields) {
        case .none: return ARCCheck(result: .none)
        case .broken(let why): return ARCCheck(result: .fail, reason: why)
        case .sets(let s): sets = s
        }
        let n = sets.sets.count
        var check = ARCCheck(result: .fail, instances: n)
        // Step 3-4: the seals' cv= and their syntax, newest first.
        var seals: [ARCSeal] = []
        for set in sets.sets {
            switch ARCSeal.parse(set.seal, in: fields) {
            case .failure(let p): check.reason = "ARC-Seal i=\(set.instance): \(p.reason)"; return check
            case .success(let seal): seals.append(seal)
            }
        }
        check.lastSealer = seals[n - 1].domain
        if seals[n - 1].chainValidation == "fail" { check.reason = "the newest seal says cv=fail"; return check }
        for (index, seal) in seals.enumerated() {
            let expected = index == 0 ? "none" : "pass"
            guard seal.chainValidation == expected else {
                check.reason = "ARC-Seal i=\(index + 1) has cv=\(seal.chainValidation), not \(expected)"
                return check
            }
        }
        var keyCache: [String: Result<DKIMKeyRecord, SignatureProblem>] = [:]
        func key(_ selector: String, _ domain: String) async -> Result<DKIMKeyRecord, SignatureProblem> {
            let name = "\(selector)._domainkey.\(domain)"
            if let k = keyCache[name] { return k }
            let k = await keys.key(selector: selector, domain: domain)
            keyCache[name] = k
            return k
        }
        func failed(_ problem: SignatureProblem, _ what: String) -> ARCCheck {
            var c = check
            c.reason = "\(what): \(problem.reason)"
            c.temporaryFailure = problem.result == .temperror
            return c
        }
        // Step 5: the newest ARC-Message-Signature, verified like a DKIM signature.
        let ams: MessageSignature
        do {
            ams = try MessageSignature.parse(sets.sets[n - 1].messageSignature, in: fields, kind: .arcMessage, now: now())
        } catch {
            return failed(error, "ARC-Message-Signature i=\(n)")
        }
        var bodies = BodyHashCache()
        if let p = bodies.problem(ams, fields) { return failed(p, "ARC-Message-Signature i=\(n)") }
        switch await key(ams.selector, ams.domain) {
        case .failure(let p): return failed(p, "ARC-Message-Signature i=\(n)")
        case .success(let record):
            if let p = SignatureCrypto.verify(ams.signature, over: SignedData.headerData(ams, in: fields),
                                              algorithm: ams.algorithm, key: record) {
                return failed(p, "ARC-Message-Signature i=\(n)")
            }
        }
        // Step 6: every seal, newest first, over the sets up to its own.
        for index in stride(from: n - 1, through: 0, by: -1) {
            let seal = seals[index]
            switch await key(seal.selector, seal.domain) {
            case .failure(let p): return failed(p, "ARC-Seal i=\(index + 1)")
            case .success(let record):
                let data = ARCSeal.signedData(sets: sets.sets[0...index], in: fields, blank: seal.blank)
                if let p = SignatureCrypto.verify(seal.signature, over: data, algorithm: seal.algorithm, key: record) {
                    return failed(p, "ARC-Seal i=\(index + 1)")
                }
            }
        }
        check.result = .pass
        return check
    }
}

/// A parsed ARC-Seal (RFC 8617 §4.1.3).
struct ARCSeal: Sendable {
    var algorithm: SigningAlgorithm
    var signature: [UInt8]
    var domain: String
    var selector: String
    var chainValidation: String
    /// The `b=` value's bytes in the message.
    var blank: Range<Int>?

    static func parse(_ field: RawField, in fields: MessageFields) -> Result<ARCSeal, SignatureProblem> {
        let tags: TagList
        do { tags = try TagList.parse(fields.value(of: field)) } catch { return .failure(.permerror(error.description)) }
        guard tags["h"] == nil else { return .failure(.permerror("h= is not allowed in an ARC-Seal")) }
        guard let a = tags["a"]?.lowercased(), let algorithm = SigningAlgorithm(rawValue: a) else {
            return .failure(.permerror("unsupported algorithm a=\(tags["a"] ?? "")"))
        }
        guard let b = tags["b"], let signature = Data(base64Encoded: b.withoutWhiteSpace), !signature.isEmpty else {
            return .failure(.permerror("b= missing or not base64"))
        }
        guard let d = tags["d"].map(DomainName.normalized), DomainName.isValid(d),
              let s = tags["s"].map(DomainName.normalized), DomainName.isValid(s) else {
            return .failure(.permerror("d= or s= missing or invalid"))
        }
        guard let cv = tags["cv"]?.lowercased(), ["none", "pass", "fail"].contains(cv) else {
            return .failure(.permerror("cv= missing or invalid"))
        }
        return .success(ARCSeal(algorithm: algorithm, signature: Array(signature), domain: d, selector: s,
                                chainValidation: cv, blank: tags.tag("b")?.rawValueRange))
    }

    /// RFC 8617 §5.1.1: the sets in instance order, each as its results, message signature and
    /// seal, relaxed; the last seal with its `b=` blanked and no final line break.
    static func signedData(sets: ArraySlice<ARCSet>, in fields: MessageFields, blank: Range<Int>?) -> [UInt8] {
        var out: [UInt8] = []
        for set in sets {
            for f in [set.results, set.messageSignature] {
                HeaderCanonicalizer.append(fields.bytes[f.range], colon: f.colon, .relaxed, to: &out)
            }
            let last = set.instance == sets.last?.instance
            HeaderCanonicalizer.append(fields.bytes[set.seal.range], colon: set.seal.colon, .relaxed,
                                       omitting: last ? blank : nil, terminate: !last, to: &out)
        }
        return out
    }
}
