import Crypto
import DNS
import Foundation
import SwiftASN1
import Testing
import X509
@testable import Gate

/// RFC 7672's rules for an SMTP client, record by record, on certificates made here.
struct DANEMatcherTests {
    struct PKI {
        let caKey = P256.Signing.PrivateKey()
        let leafKey = P256.Signing.PrivateKey()
        let ca: Certificate
        let leaf: Certificate

        init(host: String = "mx.example.net", leafValid: ClosedRange<Date> = Date(timeIntervalSinceNow: -3600)...Date(timeIntervalSinceNow: 86400)) throws {
            let caName = try DistinguishedName { CommonName("DANE test CA") }
            ca = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
                notValidBefore: Date(timeIntervalSinceNow: -7200), notValidAfter: Date(timeIntervalSinceNow: 86400 * 30),
                issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    KeyUsage(keyCertSign: true)
                }, issuerPrivateKey: .init(caKey))
            leaf = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey),
                notValidBefore: leafValid.lowerBound, notValidAfter: leafValid.upperBound,
                issuer: caName, subject: try DistinguishedName { CommonName(host) }, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    SubjectAlternativeNames([.dnsName(host)])
                }, issuerPrivateKey: .init(caKey))
        }

        static func der(_ certificate: Certificate) throws -> [UInt8] {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return serializer.serializedBytes
        }

        static func spki(_ certificate: Certificate) throws -> [UInt8] {
            var serializer = DER.Serializer()
            try serializer.serialize(certificate.publicKey)
            return serializer.serializedBytes
        }

        var chain: [[UInt8]] { get throws { [try Self.der(leaf), try Self.der(ca)] } }
    }

    static func record(_ usage: UInt8, _ selector: UInt8, _ matching: UInt8, _ selected: [UInt8]) -> DANEMatcher.Record {
        let data: [UInt8] = switch matching {
        case 1: Array(SHA256.hash(data: selected))
        case 2: Array(SHA512.hash(data: selected))
        default: selected
        }
        return DANEMatcher.Record(usage: usage, selector: selector, matchingType: matching, data: data)
    }

    @Test func daneEEMatchesTheLeafKeyOrCertificateWhateverItsName() async throws {
        let pki = try PKI(host: "other-name.example")
        for (selector, matching) in [(UInt8(1), UInt8(1)), (0, 0), (0, 2), (1, 2)] {
            let selected = selector == 1 ? try PKI.spki(pki.leaf) : try PKI.der(pki.leaf)
            let outcome = await DANEMatcher.match([Self.record(3, selector, matching, selected)], chain: try pki.chain,
                                                  hostname: "mx.example.net")
            #expect(outcome == .verified("DANE-EE(3) \(selector) \(matching)"))
        }
    }

    @Test func daneEEIgnoresExpiryButDaneTADoesNot() async throws {
        let expired = try PKI(leafValid: Date(timeIntervalSinceNow: -86400 * 10)...Date(timeIntervalSinceNow: -86400))
        let ee = await DANEMatcher.match([Self.record(3, 1, 1, try PKI.spki(expired.leaf))], chain: try expired.chain, hostname: "mx.example.net")
        #expect(ee == .verified("DANE-EE(3) 1 1"))
        let ta = await DANEMatcher.match([Self.record(2, 0, 1, try PKI.der(expired.ca))], chain: try expired.chain, hostname: "mx.example.net")
        guard case .mismatch = ta else { Issue.record("an expired leaf passed DANE-TA: \(ta)"); return }
    }

    @Test func daneTAChecksTheChainToTheAnchorAndTheHostName() async throws {
        let pki = try PKI()
        let byCert = await DANEMatcher.match([Self.record(2, 0, 1, try PKI.der(pki.ca))], chain: try pki.chain, hostname: "mx.example.net")
        #expect(byCert == .verified("DANE-TA(2) 0 1"))
        let byKey = await DANEMatcher.match([Self.record(2, 1, 2, try PKI.spki(pki.ca))], chain: try pki.chain, hostname: "MX.example.net")
        #expect(byKey == .verified("DANE-TA(2) 1 2"))
        let wrongName = await DANEMatcher.match([Self.record(2, 0, 1, try PKI.der(pki.ca))], chain: try pki.chain, hostname: "mx.other.example")
        guard case .mismatch = wrongName else { Issue.record("DANE-TA ignored the host name"); return }
    }

    @Test func aRecordOfAnotherKeyIsAMismatchNotAPass() async throws {
        let pki = try PKI(), stranger = try PKI()
        let outcome = await DANEMatcher.match([Self.record(3, 1, 1, try PKI.spki(stranger.leaf)),
                                               Self.record(2, 0, 1, try PKI.der(stranger.ca))],
                                              chain: try pki.chain, hostname: "mx.example.net")
        guard case .mismatch = outcome else { Issue.record("matched a stranger's record: \(outcome)"); return }
    }

    @Test func pkixUsagesAndUnknownParametersAreUnusable() async throws {
        let pki = try PKI()
        let spki = try PKI.spki(pki.leaf)
        let outcome = await DANEMatcher.match([Self.record(1, 1, 1, spki), Self.record(0, 0, 1, try PKI.der(pki.ca)),
                                               DANEMatcher.Record(usage: 3, selector: 2, matchingType: 1, data: [1]),
                                               DANEMatcher.Record(usage: 3, selector: 1, matchingType: 9, data: [1])],
                                              chain: try pki.chain, hostname: "mx.example.net")
        #expect(outcome == .noUsableRecords)
    }

    @Test func recordsComeFromTLSAAnswersOnly() {
        let records = DANEMatcher.records([.tlsa(usage: 3, selector: 1, matchingType: 1, data: [0xAB]), .a([192, 0, 2, 1])])
        #expect(records == [DANEMatcher.Record(usage: 3, selector: 1, matchingType: 1, data: [0xAB])])
    }

    @Test func garbageChainIsAMismatch() async {
        let outcome = await DANEMatcher.match([DANEMatcher.Record(usage: 3, selector: 0, matchingType: 0, data: [1, 2])],
                                              chain: [[0x30, 0x03, 0x01]], hostname: "mx.example.net")
        guard case .mismatch = outcome else { Issue.record("\(outcome)"); return }
    }
}
