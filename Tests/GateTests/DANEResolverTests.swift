import Crypto
import DNS
import DNSResolver
import DNSTestSupport
import Foundation
import Testing
@testable import Gate

/// `VerifyMxCertificates = Dane` end to end on the DNS side: TLSA records served by a real NSD
/// from a signed, a broken and an unsigned zone, read through the validating resolver, decided
/// by the Gate's `DANEPolicy` for a certificate chain.
@Suite(.serialized) struct DANEResolverTests {
    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func theGatesPolicyOverRealSignedUnsignedAndBrokenZones() async throws {
        let pki = try DANEMatcherTests.PKI(host: "mx.signed.test")
        let impostor = try DANEMatcherTests.PKI(host: "mx.signed.test")
        let hash = Self.hex(SHA256.hash(data: try DANEMatcherTests.PKI.spki(pki.leaf)))
        let server = try await TestDNSServer.start(zones: [
            .init("signed.test", signing: .signed, records: ["_25._tcp.mx TLSA 3 1 1 \(hash)", "mx A 192.0.2.25"]),
            .init("forged.test", signing: .brokenSignature, records: ["_25._tcp.mx TLSA 3 1 1 \(hash)"]),
            .init("plain.test", signing: .unsigned, records: ["_25._tcp.mx TLSA 3 1 1 \(hash)"]),
        ])
        defer { server.stop() }
        let resolver = try server.resolver()
        defer { resolver.shutdown() }
        let policy = DANEPolicy(dns: resolver, trust: nil)

        // Secure and matching: the server proved itself.
        #expect(await policy.evaluate(try pki.chain, hostname: "mx.signed.test") == .trusted(proved: true))
        // Secure and not matching: refused, never laundered.
        guard case .refused = await policy.evaluate(try impostor.chain, hostname: "mx.signed.test") else {
            Issue.record("an impostor's chain passed a signed TLSA record"); return
        }
        // The same record under a broken signature: bogus, refused (not a downgrade).
        let forged = await policy.evaluate(try pki.chain, hostname: "mx.forged.test")
        guard case .refused(let why) = forged else { Issue.record("bogus TLSA: \(forged)"); return }
        #expect(why.contains("bogus"))
        // Unsigned TLSA records prove nothing, and a signed zone without any: opportunistic
        // (no trust store given here, so nothing is proved).
        #expect(await policy.evaluate(try impostor.chain, hostname: "mx.plain.test") == .trusted(proved: false))
        #expect(await policy.evaluate(try impostor.chain, hostname: "other.signed.test") == .trusted(proved: false))
    }

    @Test func aSilentResolverRefusesWithinTheQueryTimeout() async throws {
        let silent = try SilentDNSServer()
        defer { silent.stop() }
        let resolver = try UnboundResolver(TestDNSServer.configuration(port: silent.port, timeout: .seconds(1)))
        defer { resolver.shutdown() }
        let pki = try DANEMatcherTests.PKI(host: "mx.signed.test")
        guard case .refused = await DANEPolicy(dns: resolver, trust: nil).evaluate(try pki.chain, hostname: "mx.signed.test") else {
            Issue.record("no TLSA answer was not refused"); return
        }
    }
}
