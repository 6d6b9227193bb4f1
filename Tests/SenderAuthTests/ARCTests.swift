import DNS
import Foundation
import Testing
@testable import SenderAuth

@Suite struct ARCTests {
    static let key = try! SigningKey.generate(.ed25519)
    static let table: DNSTable = {
        var t = DNSTable()
        t.addTXT("arc._domainkey.hop.example", key.dnsRecord)
        return t
    }()
    let verifier = ARCVerifier(lookup: table)
    let sealer = ARCSealer(domain: "hop.example", selector: "arc", key: key)

    /// The message after `hops` seals by Moat, each on what the previous verified.
    func sealed(_ hops: Int, message: [UInt8] = Fixtures.bytes(Fixtures.plainMessage)) async throws -> [UInt8] {
        var m = message
        for hop in 1...hops {
            let chain = await verifier.verify(message: m)
            let fields = try sealer.seal(message: m, authResults: "hop.example; arc=\(chain.result.rawValue); hop=\(hop)", chain: chain)
            m = Fixtures.bytes(fields.map(\.line).joined()) + m
        }
        return m
    }

    func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

    @Test func chainsOfMoatSealsPass() async throws {
        let three = try await sealed(3)
        let check = await verifier.verify(message: three)
        #expect(check.result == .pass, "\(check)")
        #expect(check.instances == 3)
        #expect(check.lastSealer == "hop.example")
        #expect(await verifier.verify(message: Fixtures.bytes(Fixtures.plainMessage)).result == .none)
    }

    @Test func brokenStructuresFail() async throws {
        let two = text(try await sealed(2))
        // A set without its results field.
        let incomplete = two.replacingOccurrences(of: "ARC-Authentication-Results: i=1;", with: "X-Removed: i=1;")
        #expect(await verifier.verify(message: Fixtures.bytes(incomplete)).reason.contains("incomplete"))
        // The results of set 1 changed: seal 1 no longer verifies (seal 2 covers it too).
        let changed = two.replacingOccurrences(of: "hop=1", with: "hop=9")
        let c = await verifier.verify(message: Fixtures.bytes(changed))
        #expect(c.result == .fail)
        #expect(c.reason.contains("ARC-Seal i=2"))
        // A duplicate instance.
        let dup = "ARC-Seal: i=1; a=ed25519-sha256; cv=none; d=x.example; s=s; b=AAAA\r\n" + two
        #expect(await verifier.verify(message: Fixtures.bytes(dup)).reason.contains("two ARC-Seal"))
        // cv=none on instance 2.
        let cv = two.replacingOccurrences(of: "cv=pass", with: "cv=none")
        #expect(await verifier.verify(message: Fixtures.bytes(cv)).reason.contains("cv=none"))
        // An instance out of range.
        let range = two.replacingOccurrences(of: "ARC-Seal: i=2;", with: "ARC-Seal: i=51;")
        #expect(await verifier.verify(message: Fixtures.bytes(range)).result == .fail)
    }

    @Test func failedChainsAreSealedAsFailed() async throws {
        let one = text(try await sealed(1)).replacingOccurrences(of: "noon", with: "one")
        let chain = await verifier.verify(message: Fixtures.bytes(one))
        #expect(chain.result == .fail)
        let fields = try sealer.seal(message: Fixtures.bytes(one), authResults: "hop.example; arc=fail", chain: chain)
        #expect(fields[0].value().contains("cv=fail"))
        #expect(fields[0].value().contains("i=2;"))
        let out = Fixtures.bytes(fields.map(\.line).joined() + one)
        let check = await verifier.verify(message: out)
        #expect(check.result == .fail)
        #expect(check.reason.contains("cv=fail"))
    }

    @Test func sealerRefusals() async throws {
        let message = Fixtures.bytes(Fixtures.plainMessage)
        #expect(throws: ARCSealer.Failure.chainUnknown) {
            try sealer.seal(message: message, authResults: "x", chain: ARCCheck(result: .fail, temporaryFailure: true))
        }
        #expect(throws: ARCSealer.Failure.inconsistentChain) {
            try sealer.seal(message: message, authResults: "x", chain: ARCCheck(result: .pass, instances: 1))
        }
        let two = try await sealed(2)
        #expect(throws: ARCSealer.Failure.inconsistentChain) {
            try sealer.seal(message: two, authResults: "x", chain: ARCCheck(result: .none))
        }
    }

    @Test func dnsFailuresAreTemporary() async throws {
        let one = try await sealed(1)
        let check = await ARCVerifier(lookup: FailingDNS()).verify(message: one)
        #expect(check.result == .fail)
        #expect(check.temporaryFailure)
        let missing = await ARCVerifier(lookup: DNSTable()).verify(message: one)
        #expect(missing.result == .fail)
        #expect(!missing.temporaryFailure)
    }

    @Test func thousandsOfARCFieldsAreBounded() async throws {
        let one = try await sealed(1)
        let header = text(one).components(separatedBy: "From: Alice")[0]
        let flood = String(repeating: header, count: 400) + Fixtures.plainMessage
        let check = await verifier.verify(message: Fixtures.bytes(flood))
        #expect(check.result == .fail)
        let long = "ARC-Authentication-Results: i=1; hop.example; " + String(repeating: "x", count: 20_000) + "\r\n"
        #expect(await verifier.verify(message: Fixtures.bytes(long) + one).reason.contains("longer than"))
        let junk = String(repeating: "ARC-Seal: i=\u{01}\r\nARC-Message-Signature: ;;;\r\n", count: 2000) + Fixtures.plainMessage
        #expect(await verifier.verify(message: Fixtures.bytes(junk)).result == .fail)
    }

    @Test func keysAndRecords() throws {
        let rsa = try SigningKey.generate(.rsa)
        #expect(rsa.dnsRecord.hasPrefix("v=DKIM1; k=rsa; p=MII"))
        let back = try SigningKey(pem: rsa.pemRepresentation)
        #expect(back.publicKeyBase64 == rsa.publicKeyBase64)
        let ed = try SigningKey(pem: Self.key.pemRepresentation)
        #expect(ed.publicKeyBase64 == Self.key.publicKeyBase64)
        #expect(Self.key.dnsRecord.hasPrefix("v=DKIM1; k=ed25519; p="))
        guard case .success(let record) = DKIMKeyRecord.parse(rsa.dnsRecord) else { Issue.record("record"); return }
        #expect(record.keyType == .rsa)
        let zone = rsa.zoneLine(selector: "arc", domain: "hop.example")
        #expect(zone.hasPrefix("arc._domainkey.hop.example. IN TXT ( \""))
        #expect(throws: SigningKey.Failure.self) { try SigningKey(pem: "not a key") }
    }

    @Test func readsKeysOpenSSLWrites() throws {
        // `openssl genpkey -algorithm ed25519` (PKCS#8) and its public key.
        let ed = try SigningKey(pem: """
            -----BEGIN PRIVATE KEY-----
            MC4CAQAwBQYDK2VwBCIEIGVoZcZ3OiKoGvK+TdIDnY46TpjOZqq6bqv+ot9Ear8Y
            -----END PRIVATE KEY-----
            """)
        #expect(ed.publicKeyBase64 == "7spTNlTSbfYoRGOh6vmN6Wa/9cFl5EzadA3IZn/VLz4=")
        // `openssl genrsa -traditional` (PKCS#1) round-trips through PKCS#8.
        let rsa = try SigningKey.generate(.rsa)
        guard case .rsa(let k) = rsa else { Issue.record("rsa"); return }
        let pkcs1 = try SigningKey(pem: k.pemRepresentation)
        #expect(k.pemRepresentation.hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        #expect(pkcs1.publicKeyBase64 == rsa.publicKeyBase64)
        #expect(throws: SigningKey.Failure.self) { try SigningKey.generate(.rsa, rsaBits: 1000) }
    }
}
