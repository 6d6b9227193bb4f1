import DNS
import Foundation

// RFC 6376 §6: every DKIM-Signature of a message checked, up to a bound.

/// Verifies the DKIM signatures of one message.
///
/// Input: the whole message as it arrived (header and body, CRLF or bare LF line ends); it is
/// read in place, only the header fields a signature names are copied (canonicalized).
public struct DKIMVerifier: Sendable {
    /// Signatures past this many (top to bottom) are not verified nor reported: every one costs
    /// a DNS lookup and a public-key operation, and a sender needs one or two.
    public var maxSignatures: Int
    private let keys: KeyFetcher
    private let now: @Sendable () -> Int

    public init(lookup: any DNSLookup, maxSignatures: Int = 8,
                now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.keys = KeyFetcher(lookup: lookup)
        self.maxSignatures = maxSignatures
        self.now = now
    }

    /// One check per DKIM-Signature field (the first `maxSignatures`, top to bottom); empty
    /// when the message has none (DKIM result `none`).
    public func verify(message: [UInt8]) async -> [DKIMSignatureCheck] {
        await verify(MessageFields(message))
    }

    func verify(_ fields: MessageFields) async -> [DKIMSignatureCheck] {
        let signatureFields = fields.fields(named: "dkim-signature").prefix(maxSignatures)
        let time = now()
        var checks: [DKIMSignatureCheck] = []
        var pending: [(index: Int, sig: MessageSignature)] = []
        var bodies = BodyHashCache()
        for field in signatureFields {
            let labels = MessageSignature.labels(try? TagList.parse(fields.value(of: field)))
            var check = DKIMSignatureCheck(result: .none, domain: labels.domain, selector: labels.selector,
                                           algorithm: labels.algorithm, signaturePrefix: labels.b)
            do {
                let sig = try MessageSignature.parse(field, in: fields, kind: .dkim, now: time)
                check.identity = sig.identity
                if let problem = bodies.problem(sig, fields) {
                    check.result = problem.result
                    check.reason = problem.reason
                } else {
                    pending.append((checks.count, sig))
                }
            } catch {
                check.result = error.result
                check.reason = error.reason
            }
            checks.append(check)
        }
        // The keys of the signatures whose body matched, fetched together.
        let keys = self.keys
        let fetched = await withTaskGroup(of: (Int, Result<DKIMKeyRecord, SignatureProblem>).self) { group in
            for (index, sig) in pending {
                group.addTask { (index, await keys.key(selector: sig.selector, domain: sig.domain)) }
            }
            var all: [Int: Result<DKIMKeyRecord, SignatureProblem>] = [:]
            for await (index, result) in group { all[index] = result }
            return all
        }
        for (index, sig) in pending {
            let outcome = Self.check(sig, key: fetched[index], fields: fields)
            checks[index].result = outcome.result
            checks[index].reason = outcome.reason
            checks[index].testing = outcome.testing
        }
        return checks
    }

    private static func check(_ sig: MessageSignature, key: Result<DKIMKeyRecord, SignatureProblem>?,
                              fields: MessageFields) -> (result: DKIMResult, reason: String, testing: Bool) {
        guard let key else { return (.temperror, "no key lookup", false) }
        let record: DKIMKeyRecord
        switch key {
        case .failure(let p): return (p.result, p.reason, false)
        case .success(let r): record = r
        }
        if record.strictIdentity {
            let idDomain = DomainName.normalized(String(sig.identity.split(separator: "@", omittingEmptySubsequences: false).last ?? ""))
            if idDomain != sig.domain { return (.permerror, "key requires i= in d= itself (t=s)", record.testing) }
        }
        let data = SignedData.headerData(sig, in: fields)
        if let p = SignatureCrypto.verify(sig.signature, over: data, algorithm: sig.algorithm, key: record) {
            return (p.result, p.reason, record.testing)
        }
        return (.pass, record.testing ? "key in testing mode (t=y)" : "", record.testing)
    }
}
