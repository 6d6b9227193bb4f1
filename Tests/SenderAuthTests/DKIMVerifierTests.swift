import DNS
import Foundation
import Testing
@testable import SenderAuth

@Suite struct DKIMVerifierTests {
    let verifier = DKIMVerifier(lookup: Fixtures.rfc8463Keys)

    @Test func rfc8463ExamplePassesWithBothAlgorithms() async {
        let checks = await verifier.verify(message: Fixtures.bytes(Fixtures.rfc8463Message))
        #expect(checks.map(\.result) == [.pass, .pass])
        #expect(checks.map(\.algorithm) == ["ed25519-sha256", "rsa-sha256"])
        #expect(checks.map(\.selector) == ["brisbane", "test"])
        #expect(checks[0].domain == "football.example.com")
        #expect(checks[0].identity == "@football.example.com")
        #expect(checks[0].signaturePrefix == "/gCrinpc")
    }

    @Test func bareLineFeedsVerifyLikeCRLF() async {
        let lf = Fixtures.rfc8463Message.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(await verifier.verify(message: Fixtures.bytes(lf)).map(\.result) == [.pass, .pass])
    }

    @Test func tamperedBodyOrHeaderFails() async {
        let body = Fixtures.rfc8463Message.replacingOccurrences(of: "hungry", with: "thirsty")
        let bodyChecks = await verifier.verify(message: Fixtures.bytes(body))
        #expect(bodyChecks.map(\.result) == [.fail, .fail])
        #expect(bodyChecks[0].reason.contains("body hash"))
        let header = Fixtures.rfc8463Message.replacingOccurrences(of: "Is dinner ready?", with: "Is lunch ready?")
        let headerChecks = await verifier.verify(message: Fixtures.bytes(header))
        #expect(headerChecks.map(\.result) == [.fail, .fail])
        #expect(headerChecks[0].reason.contains("signature did not verify"))
    }

    @Test func overSignedFieldsCannotBeAdded() async {
        // h= lists from and subject twice: a second Subject added on the way breaks both.
        let added = Fixtures.rfc8463Message.replacingOccurrences(of: "Subject: Is dinner ready?\r\n",
                                                                 with: "Subject: Is dinner ready?\r\nSubject: Buy now\r\n")
        #expect(await verifier.verify(message: Fixtures.bytes(added)).map(\.result) == [.fail, .fail])
        // A field that is not signed may be added.
        let trace = "Received: from somewhere\r\n" + Fixtures.rfc8463Message
        #expect(await verifier.verify(message: Fixtures.bytes(trace)).map(\.result) == [.pass, .pass])
    }

    @Test func missingKeyIsPermerrorAndDNSFailureTemperror() async {
        let none = await DKIMVerifier(lookup: DNSTable()).verify(message: Fixtures.bytes(Fixtures.rfc8463Message))
        #expect(none.map(\.result) == [.permerror, .permerror])
        #expect(none[0].reason == "no key for signature")
        let failing = await DKIMVerifier(lookup: FailingDNS()).verify(message: Fixtures.bytes(Fixtures.rfc8463Message))
        #expect(failing.map(\.result) == [.temperror, .temperror])
        var bogus = DNSTable()
        bogus.set("brisbane._domainkey.football.example.com", .txt,
                  DNSAnswer(.records([.txt([Array("k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=".utf8)])]),
                            security: .bogus("RRSIG expired")))
        #expect(await DKIMVerifier(lookup: bogus).verify(message: Fixtures.bytes(Fixtures.rfc8463Message))[0].result == .temperror)
    }

    func withKeys(_ ed: String, _ rsa: String) -> DKIMVerifier {
        var t = DNSTable()
        t.addTXT("brisbane._domainkey.football.example.com", ed)
        t.addTXT("test._domainkey.football.example.com", rsa)
        return DKIMVerifier(lookup: t)
    }

    @Test func keyRecordRules() async {
        let message = Fixtures.bytes(Fixtures.rfc8463Message)
        let ed = "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
        // Revoked (empty p=), wrong version, v= not first, unknown k=, k= of the other algorithm.
        for record in ["v=DKIM1; k=ed25519; p=", "v=DKIM2; k=ed25519; \(ed)", "k=ed25519; v=DKIM1; \(ed)",
                       "k=dsa; \(ed)", "k=rsa; \(ed)", "k=ed25519; h=sha1; \(ed)", "k=ed25519; s=tlsrpt; \(ed)",
                       "k=ed25519; p=AAAA", "k=ed25519"] {
            let checks = await withKeys(record, record).verify(message: message)
            #expect(checks[0].result == .permerror, "\(record)")
        }
        // The RSA key cut to 512 bits (RFC 8301).
        let short = await withKeys("", "k=rsa; p=\(Fixtures.rsa512)").verify(message: message)
        #expect(short[1].result == .permerror)
        #expect(short[1].reason.contains("1024"))
        // Malformed RSA DER (swift-crypto 3.12.3's DER initialiser would abort the process on
        // these: Fuzz/regressions/dkim-key), an RSA key of another algorithm's OID, and the
        // PKCS#1 form of the RFC key, which some signers publish and which passes.
        for bad in ["11qr", "MAA=", "MA0GCSqGSIb3DQEBAQUA", "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="] {
            let checks = await withKeys("", "k=rsa; p=\(bad)").verify(message: message)
            #expect(checks[1].result == .permerror, "\(bad)")
        }
        let pkcs1 = "MIGJAoGBAOQeU5CgFPNZGIazlXo2k/eJ1jpaTTxrmqF1HrDLlt04pvaMtCJj8nXoliLRC/H9vJjMI1vdb3XLcW60AIN/PBD8EL97/y4GwJH7LPUvGP48vqUe+owqszesbiGy1PlCO8c70/OjFnJVgvMF87YR4Lcincb7aSvI5MgpP6X8rjDdAgMBAAE="
        #expect(await withKeys("", "k=rsa; p=\(pkcs1)").verify(message: message)[1].result == .pass)
        // Testing mode is reported, the result stays; s=email and h=sha256 are fine.
        let testing = await withKeys("v=DKIM1; k=ed25519; t=y; s=email; h=sha256; \(ed)", "").verify(message: message)
        #expect(testing[0].result == .pass)
        #expect(testing[0].testing)
        // t=s: i= must be d= itself; here i=@football.example.com is, so it passes.
        #expect(await withKeys("k=ed25519; t=s; \(ed)", "").verify(message: message)[0].result == .pass)
    }

    /// The ed25519 signature of the RFC message with one tag changed (so the signature breaks,
    /// which is not what these checks look at: they stop before).
    func variant(_ from: String, _ to: String) -> [UInt8] {
        let sig = Fixtures.rfc8463Message.components(separatedBy: "DKIM-Signature: v=1; a=rsa-sha256")[0]
        let rest = "From:" + Fixtures.rfc8463Message.components(separatedBy: "\r\nFrom:")[1]
        return Fixtures.bytes(sig.replacingOccurrences(of: from, with: to) + rest)
    }

    @Test func signatureTagRules() async {
        let cases: [(String, String, DKIMResult)] = [
            ("a=ed25519-sha256", "a=rsa-sha1", .policy),
            ("a=ed25519-sha256", "a=rsa-md5", .permerror),
            ("v=1", "v=2", .permerror),
            ("c=relaxed/relaxed", "c=fancy", .permerror),
            ("i=@football.example.com", "i=@example.com", .permerror),
            ("h=from : to :\r\n subject : date : message-id : from : subject : date;", "h=to : subject;", .permerror),  // From not signed
            ("q=dns/txt", "q=http", .permerror),
            ("t=1528637909", "t=1528637909; x=1528637000", .permerror),  // x before t
            ("t=1528637909", "t=1528637909; x=1600000000", .fail),  // expired
            ("s=brisbane", "s=bad selector!", .permerror),
            ("bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=", "bh=AAAA", .permerror),
            ("t=1528637909", "t=1528637909; t=1", .permerror),  // duplicate tag
        ]
        for (from, to, expected) in cases {
            let checks = await verifier.verify(message: variant(from, to))
            #expect(checks.count == 1)
            #expect(checks.first?.result == expected, "\(to)")
        }
    }

    @Test(arguments: [DKIMKeyRecord.KeyType.ed25519, .rsa])
    func moatSignaturesVerify(_ type: DKIMKeyRecord.KeyType) async throws {
        let key = try SigningKey.generate(type)
        var table = DNSTable()
        table.addTXT("s1._domainkey.example.org", key.dnsRecord)
        let signer = DKIMSigner(domain: "example.org", selector: "s1", key: key)
        let signed = try signer.sign(message: Fixtures.bytes(Fixtures.plainMessage))
        let verifier = DKIMVerifier(lookup: table)
        let message = Fixtures.prepend([signed], to: Fixtures.plainMessage)
        #expect(await verifier.verify(message: message).map(\.result) == [.pass])
        #expect(await verifier.verify(message: message + Array("P.S.\r\n".utf8)).map(\.result) == [.fail])
    }

    @Test func thousandsOfSignaturesAreBounded() async {
        let one = Fixtures.rfc8463Message.components(separatedBy: "DKIM-Signature: v=1; a=rsa-sha256")[0]
        let message = String(repeating: one, count: 3000) + "From:" + Fixtures.rfc8463Message.components(separatedBy: "\r\nFrom:")[1]
        let checks = await verifier.verify(message: Fixtures.bytes(message))
        #expect(checks.count == 8)
        #expect(checks.allSatisfy { $0.result == .pass })
    }

    @Test func hugeHeadersAndGarbageGiveResults() async {
        let huge = "X-Big: " + String(repeating: "a", count: 2_000_000) + "\r\n"
        let many = String(repeating: "X-Many: 1\r\n", count: 9_000)
        let checks = await verifier.verify(message: Fixtures.bytes(huge + many + Fixtures.rfc8463Message))
        #expect(checks.map(\.result) == [.pass, .pass])
        // Past MessageFields.maxFields fields nothing more is indexed: signatures there are not seen.
        let flood = String(repeating: "X-Many: 1\r\n", count: 50_000)
        #expect(await verifier.verify(message: Fixtures.bytes(flood + Fixtures.rfc8463Message)).isEmpty)
        let garbage = "DKIM-Signature: \u{01}\u{02};;==;\r\nDKIM-Signature:\r\nFrom: a@b\r\n\r\nbody"
        let g = await verifier.verify(message: Fixtures.bytes(garbage))
        #expect(g.map(\.result) == [.permerror, .permerror])
        #expect(await verifier.verify(message: []).isEmpty)
    }
}
