import DNS
import Testing
@testable import Gate

/// What `VerifyMxCertificates = Dane` does with each kind of DNS answer (RFC 7672 §2.2).
struct DANEPolicyTests {
    static let name = "_25._tcp.mx.example.net"

    static func policy(_ answer: DNSAnswer) -> DANEPolicy {
        var table = DNSTable()
        table.set(name, .tlsa, answer)
        return DANEPolicy(dns: table, trust: nil)
    }

    static func tlsa(for pki: DANEMatcherTests.PKI) throws -> DNSRecord {
        let record = DANEMatcherTests.record(3, 1, 1, try DANEMatcherTests.PKI.spki(pki.leaf))
        return .tlsa(usage: record.usage, selector: record.selector, matchingType: record.matchingType, data: record.data)
    }

    @Test func secureMatchingRecordProvesTheServer() async throws {
        let pki = try DANEMatcherTests.PKI()
        let decision = await Self.policy(DNSAnswer(.records([try Self.tlsa(for: pki)]), security: .secure))
            .evaluate(try pki.chain, hostname: "mx.example.net")
        #expect(decision == .trusted(proved: true))
    }

    @Test func secureRecordOfAnotherKeyRefusesTheServer() async throws {
        let pki = try DANEMatcherTests.PKI(), impostor = try DANEMatcherTests.PKI()
        let decision = await Self.policy(DNSAnswer(.records([try Self.tlsa(for: pki)]), security: .secure))
            .evaluate(try impostor.chain, hostname: "mx.example.net")
        guard case .refused = decision else { Issue.record("an impostor was trusted: \(decision)"); return }
    }

    @Test func bogusOrMissingAnswersRefuseRatherThanDowngrade() async throws {
        let pki = try DANEMatcherTests.PKI()
        for answer in [DNSAnswer(.records([try Self.tlsa(for: pki)]), security: .bogus("signature expired")),
                       DNSAnswer(.temporaryFailure("timed out"), security: .insecure),
                       DNSAnswer(.nxdomain, security: .bogus("no DNSKEY"))] {
            let decision = await Self.policy(answer).evaluate(try pki.chain, hostname: "mx.example.net")
            guard case .refused = decision else { Issue.record("\(answer) → \(decision)"); continue }
        }
    }

    @Test func noTLSARecordsOrUnsignedOnesAreOpportunistic() async throws {
        let pki = try DANEMatcherTests.PKI(), impostor = try DANEMatcherTests.PKI()
        for answer in [DNSAnswer(.noData, security: .secure), DNSAnswer(.nxdomain, security: .secure),
                       DNSAnswer(.records([try Self.tlsa(for: pki)]), security: .insecure)] {
            // Without trusted roots the certificate check proves nothing: encrypted, not vouched for.
            let decision = await Self.policy(answer).evaluate(try impostor.chain, hostname: "mx.example.net")
            #expect(decision == .trusted(proved: false), "\(answer)")
        }
    }

    @Test func onlyUnusableRecordsMeanEncryptedButUnauthenticated() async throws {
        let pki = try DANEMatcherTests.PKI()
        let pkixOnly = DNSRecord.tlsa(usage: 1, selector: 1, matchingType: 1, data: [1, 2, 3])
        let decision = await Self.policy(DNSAnswer(.records([pkixOnly]), security: .secure))
            .evaluate(try pki.chain, hostname: "mx.example.net")
        #expect(decision == .trusted(proved: false))
    }
}
