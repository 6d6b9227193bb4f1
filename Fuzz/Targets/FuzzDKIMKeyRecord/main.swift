// DKIM key records and DMARC records from DNS: any TXT bytes parse to a record or an error,
// never a crash; a key that parses goes through the signature check (BoringSSL's DER parser
// for RSA) and fails it cleanly.
import FuzzKit
@testable import SenderAuth

runFuzzer { input in
    switch DKIMKeyRecord.parse(input) {
    case .success(let key):
        invariant(!key.publicKey.isEmpty, "empty key passed (revoked keys must fail)")
        for algorithm in [SigningAlgorithm.rsaSHA256, .ed25519SHA256] {
            let problem = SignatureCrypto.verify([UInt8](repeating: 1, count: 64), over: input, algorithm: algorithm, key: key)
            invariant(problem != nil, "a constant signature verified")
        }
    case .failure(let error):
        invariant(!error.description.isEmpty, "error without reason")
    }
    if let record = DMARCRecord.parse(input) {
        invariant((0...100).contains(record.percent), "pct \(record.percent)")
    }
    _ = PublicSuffixList.fallback.organizationalDomain(of: String(decoding: input.prefix(300), as: UTF8.self))
}
