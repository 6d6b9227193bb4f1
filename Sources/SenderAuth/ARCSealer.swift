import Foundation

// RFC 8617 §5.1: adding this gateway's ARC set to a message it changed.

public struct ARCSealer: Sendable {
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The chain could not be validated for now (a DNS failure): sealing it as failed would
        /// be for good, so nothing is sealed.
        case chainUnknown
        /// The message already has 50 sets.
        case tooManyInstances
        /// The chain result given says none but the message has ARC fields (or the reverse).
        case inconsistentChain
        case signing(String)

        public var description: String {
            switch self {
            case .chainUnknown: "the ARC chain could not be validated (temporary DNS failure)"
            case .tooManyInstances: "the message already has \(ARCLimits.maxInstance) ARC sets"
            case .inconsistentChain: "the ARC result given does not match the message's ARC fields"
            case .signing(let why): "signing failed: \(why)"
            }
        }
    }

    private let signer: MessageSigner
    private let headers: [String]
    private let now: @Sendable () -> Int

    public init(domain: String, selector: String, key: SigningKey, headers: [String]? = nil,
                now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.signer = MessageSigner(domain: DomainName.normalized(domain), selector: DomainName.normalized(selector), key: key)
        self.headers = headers?.map { $0.lowercased() } ?? MessageSigner.defaultHeaders
        self.now = now
    }

    /// The three fields to put in front of `message`, top to bottom: ARC-Seal,
    /// ARC-Message-Signature, ARC-Authentication-Results.
    ///
    /// - `message`: the message as it will leave (after Moat's changes), header and body.
    /// - `authResults`: the local Authentication-Results value: `authserv-id; method=result ...`.
    /// - `chain`: what `ARCVerifier` said of the message as it arrived (before the changes).
    public func seal(message: [UInt8], authResults: String, chain: ARCCheck) throws(Failure) -> [SignedHeaderField] {
        let fields = MessageFields(message)
        if chain.temporaryFailure { throw .chainUnknown }
        let previous: [ARCSet]
        let validation: String
        switch (chain.result, ARCSets.collect(fields)) {
        case (.none, .none):
            previous = []
            validation = "none"
        case (.pass, .sets(let sets)):
            previous = sets.sets
            validation = "pass"
        case (.fail, let outcome):
            // A failed chain: the new seal covers its own set only (RFC 8617 §5.1.1).
            previous = []
            validation = "fail"
            if case .sets(let sets) = outcome, sets.sets.count >= ARCLimits.maxInstance { throw .tooManyInstances }
        default:
            throw .inconsistentChain
        }
        let instance: Int
        switch ARCSets.collect(fields) {
        case .sets(let sets): instance = sets.sets.count + 1
        case .none: instance = 1
        case .broken: instance = min(fields.fields(named: "arc-seal").count + 1, ARCLimits.maxInstance + 1)
        }
        guard instance <= ARCLimits.maxInstance else { throw .tooManyInstances }
        let time = now()
        let flat = authResults.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).joined(separator: " ")
        let results = SignedHeaderField(name: "ARC-Authentication-Results", segments: ["i=\(instance); \(flat)"])
        let messageSignature: SignedHeaderField
        do {
            messageSignature = try signer.sign(fields, name: "ARC-Message-Signature", leadingTags: ["i=\(instance)"],
                                               headers: headers, time: time)
        } catch {
            throw .signing("\(error)")
        }
        var seal = MessageSigner.fold([
            "i=\(instance); a=\(signer.key.algorithm.rawValue); t=\(time); cv=\(validation);",
            "d=\(signer.domain); s=\(signer.selector);",
        ]) + ["b="]
        var data: [UInt8] = []
        for set in previous {
            for f in [set.results, set.messageSignature, set.seal] {
                HeaderCanonicalizer.append(fields.bytes[f.range], colon: f.colon, .relaxed, to: &data)
            }
        }
        for f in [results, messageSignature] { Self.appendCanonical(f, to: &data) }
        Self.appendCanonical(SignedHeaderField(name: "ARC-Seal", segments: seal), terminate: false, to: &data)
        do {
            let b = Data(try signer.key.sign(data)).base64EncodedString()
            seal.removeLast()
            seal += MessageSigner.fold(["b=" + b])
        } catch {
            throw .signing("\(error)")
        }
        return [SignedHeaderField(name: "ARC-Seal", segments: seal), messageSignature, results]
    }

    private static func appendCanonical(_ field: SignedHeaderField, terminate: Bool = true, to out: inout [UInt8]) {
        let bytes = Array(field.line.utf8)
        HeaderCanonicalizer.append(bytes[...], colon: field.name.utf8.count, .relaxed, terminate: terminate, to: &out)
    }
}

/// Signs messages with a DKIM-Signature (relaxed/relaxed), for tests against other verifiers
/// and for a later outbound signing feature.
public struct DKIMSigner: Sendable {
    private let signer: MessageSigner
    private let headers: [String]
    private let now: @Sendable () -> Int

    public init(domain: String, selector: String, key: SigningKey, headers: [String]? = nil,
                now: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.signer = MessageSigner(domain: DomainName.normalized(domain), selector: DomainName.normalized(selector), key: key)
        self.headers = headers?.map { $0.lowercased() } ?? MessageSigner.defaultHeaders.filter { $0 != "dkim-signature" }
        self.now = now
    }

    /// The DKIM-Signature field to put in front of `message`.
    public func sign(message: [UInt8]) throws -> SignedHeaderField {
        try signer.sign(MessageFields(message), name: "DKIM-Signature", leadingTags: ["v=1"], headers: headers, time: now())
    }
}
