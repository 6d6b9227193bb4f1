import Crypto
import DANE
import DNS
import Foundation
import Testing
import X509

@Suite struct TLSAEvaluationTests {
    typealias Record = TLSAEvaluation.Record

    static func record(_ usage: UInt8, _ selector: UInt8, _ matching: UInt8, of certificate: Certificate) throws -> Record {
        let selected = try TLSAEvaluation.selected(certificate, selector)
        let data: [UInt8] = switch matching {
        case 0: selected
        case 1: Array(SHA256.hash(data: selected))
        default: Array(SHA512.hash(data: selected))
        }
        return Record(usage: usage, selector: selector, matchingType: matching, data: data)
    }

    @Test func daneEEMatchesTheLeafWhateverItsNameOrDates() async throws {
        // Expired and named for another host: DANE-EE checks neither (RFC 7672 §3.1.1).
        let chain = try TestChain(host: "other.example", notAfter: Date().addingTimeInterval(-60))
        for selector: UInt8 in [0, 1] {
            for matching: UInt8 in [0, 1, 2] {
                let record = try Self.record(3, selector, matching, of: chain.leaf)
                #expect(await TLSAEvaluation.evaluate([record], chain: try chain.chain, hostnames: ["mx.example"])
                    == .matched(usage: 3), "3 \(selector) \(matching)")
            }
        }
    }

    @Test func daneTAMatchesAnIssuerAndTheLeafMustChainAndName() async throws {
        let chain = try TestChain(host: "mx.example")
        for selector: UInt8 in [0, 1] {
            let record = try Self.record(2, selector, 1, of: chain.ca)
            #expect(await TLSAEvaluation.evaluate([record], chain: try chain.chain, hostnames: ["mx.example"]) == .matched(usage: 2))
            // The right anchor, the wrong name: refused.
            guard case .mismatch = await TLSAEvaluation.evaluate([record], chain: try chain.chain, hostnames: ["mail.other"]) else {
                Issue.record("DANE-TA accepted a leaf for another name")
                continue
            }
        }
        // DANE-TA naming the leaf itself is not an anchor above it.
        let onLeaf = try Self.record(2, 1, 1, of: chain.leaf)
        guard case .mismatch = await TLSAEvaluation.evaluate([onLeaf], chain: try chain.chain, hostnames: ["mx.example"]) else {
            Issue.record("DANE-TA matched the leaf"); return
        }
        // An expired leaf under DANE-TA fails the RFC 5280 checks.
        let expired = try TestChain(host: "mx.example", notAfter: Date().addingTimeInterval(-60))
        let anchor = try Self.record(2, 0, 1, of: expired.ca)
        guard case .mismatch = await TLSAEvaluation.evaluate([anchor], chain: try expired.chain, hostnames: ["mx.example"]) else {
            Issue.record("DANE-TA accepted an expired leaf"); return
        }
    }

    @Test func aMismatchingRecordIsRefusedAndUnusableOnesAreIgnored() async throws {
        let chain = try TestChain(host: "mx.example")
        let other = try TestChain(host: "mx.example")
        let wrong = try Self.record(3, 1, 1, of: other.leaf)
        guard case .mismatch = await TLSAEvaluation.evaluate([wrong], chain: try chain.chain, hostnames: ["mx.example"]) else {
            Issue.record("a TLSA record of another key matched"); return
        }
        let pkix = try Self.record(1, 1, 1, of: chain.leaf)
        let badMatching = Record(usage: 3, selector: 1, matchingType: 9, data: [1])
        let shortHash = Record(usage: 3, selector: 1, matchingType: 1, data: [1, 2, 3])
        #expect(await TLSAEvaluation.evaluate([pkix, badMatching, shortHash], chain: try chain.chain, hostnames: ["mx.example"])
            == .noUsableRecords)
        // One usable match among unusable and wrong records is enough.
        let right = try Self.record(3, 0, 2, of: chain.leaf)
        #expect(await TLSAEvaluation.evaluate([pkix, wrong, right], chain: try chain.chain, hostnames: []) == .matched(usage: 3))
        guard case .mismatch = await TLSAEvaluation.evaluate([right], chain: [[0x30, 0x03, 0x02, 0x01, 0x01]], hostnames: []) else {
            Issue.record("garbage certificate matched"); return
        }
    }

    @Test func policyFromTheTLSAAnswer() {
        let record = DNSRecord.tlsa(usage: 3, selector: 1, matchingType: 1, data: [UInt8](repeating: 1, count: 32))
        let pkix = DNSRecord.tlsa(usage: 1, selector: 1, matchingType: 1, data: [UInt8](repeating: 1, count: 32))
        #expect(DANEPolicy.decide(DNSAnswer(.records([record]), security: .secure))
            == .verifyByTLSA([Record(usage: 3, selector: 1, matchingType: 1, data: [UInt8](repeating: 1, count: 32))]))
        #expect(DANEPolicy.decide(DNSAnswer(.records([pkix]), security: .secure)) == .encryptWithoutAuthentication)
        #expect(DANEPolicy.decide(DNSAnswer(.records([record]), security: .insecure)) == .noDANE)
        #expect(DANEPolicy.decide(DNSAnswer(.noData, security: .secure)) == .noDANE)
        #expect(DANEPolicy.decide(DNSAnswer(.nxdomain, security: .insecure)) == .noDANE)
        if case .refuse = DANEPolicy.decide(DNSAnswer(.temporaryFailure("x"), security: .bogus("sig expired"))) {} else {
            Issue.record("bogus not refused")
        }
        if case .refuse = DANEPolicy.decide(DNSAnswer(.temporaryFailure("SERVFAIL"))) {} else { Issue.record("failure not refused") }
        #expect(DANEPolicy.tlsaName(host: "MX.Example.") == "_25._tcp.mx.example")
    }
}
