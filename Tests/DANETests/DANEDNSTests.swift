import Crypto
import DANE
import DNS
import DNSResolver
import DNSTestSupport
import Foundation
import Testing
import X509

/// TLSA records published in real zones, read through the validating resolver, decided and
/// evaluated against a certificate chain: what the Gate's port-25 verification will do.
@Suite(.serialized) struct DANEDNSTests {
    @Test func tlsaRecordsDecideByTheirDNSSECStatus() async throws {
        let chain = try TestChain(host: "mx.signed.test")
        let other = try TestChain(host: "mx.signed.test")
        let spki = try TLSAEvaluation.selected(chain.leaf, 1)
        let hash = TestChain.hex(Array(SHA256.hash(data: spki)))
        let otherHash = TestChain.hex(Array(SHA256.hash(data: try TLSAEvaluation.selected(other.leaf, 1))))
        let server = try await TestDNSServer.start(zones: [
            .init("signed.test", signing: .signed, records: ["_25._tcp.mx TLSA 3 1 1 \(hash)", "_25._tcp.wrong TLSA 3 1 1 \(otherHash)"]),
            .init("forged.test", signing: .brokenSignature, records: ["_25._tcp.mx TLSA 3 1 1 \(hash)"]),
            .init("plain.test", signing: .unsigned, records: ["_25._tcp.mx TLSA 3 1 1 \(otherHash)"]),
        ])
        defer { server.stop() }
        let resolver = try server.resolver()
        defer { resolver.shutdown() }

        let secure = DANEPolicy.decide(await resolver.lookup(DANEPolicy.tlsaName(host: "mx.signed.test"), .tlsa))
        guard case .verifyByTLSA(let records) = secure else { Issue.record("signed TLSA: \(secure)"); return }
        #expect(await TLSAEvaluation.evaluate(records, chain: try chain.chain, hostnames: ["mx.signed.test"]) == .matched(usage: 3))

        let wrong = DANEPolicy.decide(await resolver.lookup(DANEPolicy.tlsaName(host: "wrong.signed.test"), .tlsa))
        guard case .verifyByTLSA(let wrongRecords) = wrong else { Issue.record("signed TLSA: \(wrong)"); return }
        guard case .mismatch = await TLSAEvaluation.evaluate(wrongRecords, chain: try chain.chain, hostnames: ["wrong.signed.test"]) else {
            Issue.record("a mismatching TLSA record was accepted"); return
        }
        #expect(DANEPolicy.decide(await resolver.lookup(DANEPolicy.tlsaName(host: "none.signed.test"), .tlsa)) == .noDANE)

        // A TLSA record whose signature does not verify: refused, never "no DANE".
        let forged = DANEPolicy.decide(await resolver.lookup(DANEPolicy.tlsaName(host: "mx.forged.test"), .tlsa))
        guard case .refuse = forged else { Issue.record("bogus TLSA not refused: \(forged)"); return }
        #expect(DANEPolicy.decide(await resolver.lookup(DANEPolicy.tlsaName(host: "mx.plain.test"), .tlsa)) == .noDANE)
    }
}
