import DNS
import Foundation
import Testing
@testable import SenderAuth

/// Moat against dkimpy, both ways, with keys made for each run.
@Suite(.serialized) struct DkimpyInteropTests {
    static let message = Fixtures.bytes(Fixtures.plainMessage)

    @Test(arguments: [("rsa", 2048), ("rsa", 1024), ("ed25519", 0)])
    func dkimsignedMessagesVerifyInMoat(type: String, bits: Int) async throws {
        var py = try Dkimpy()
        defer { py.remove() }
        let key = type == "rsa" ? try SigningKey.generate(.rsa, rsaBits: bits) : try SigningKey.generate(.ed25519)
        let file = try py.add(key, selector: "sel\(bits)", domain: "example.org")
        let verifier = DKIMVerifier(lookup: py.table)
        for (header, body) in [("simple", "simple"), ("relaxed", "relaxed"), ("relaxed", "simple"), ("simple", "relaxed")] {
            let signed = try py.dkimsign(Self.message, selector: "sel\(bits)", domain: "example.org", keyFile: file,
                                         header: header, body: body, algorithm: type == "rsa" ? "rsa-sha256" : "ed25519-sha256")
            let checks = await verifier.verify(message: signed)
            #expect(checks.map(\.result) == [.pass], "\(type) \(bits) \(header)/\(body): \(checks)")
            // Changed on the way: a word of the body, the subject.
            let text = String(decoding: signed, as: UTF8.self)
            let body = Fixtures.bytes(text.replacingOccurrences(of: "noon", with: "one"))
            #expect(await verifier.verify(message: body).map(\.result) == [.fail])
            let subject = Fixtures.bytes(text.replacingOccurrences(of: "Subject: Lunch", with: "Subject: Dinner"))
            #expect(await verifier.verify(message: subject).map(\.result) == [.fail])
        }
    }

    @Test func rsaSHA1FromDkimsignIsRefused() async throws {
        var py = try Dkimpy()
        defer { py.remove() }
        let key = try SigningKey.generate(.rsa)
        let file = try py.add(key, selector: "old", domain: "example.org")
        let signed = try py.dkimsign(Self.message, selector: "old", domain: "example.org", keyFile: file,
                                     header: "relaxed", body: "relaxed", algorithm: "rsa-sha1")
        let checks = await DKIMVerifier(lookup: py.table).verify(message: signed)
        #expect(checks.map(\.result) == [.policy])
    }

    @Test func bodyLengthTagCoversOnlyItsBytes() async throws {
        var py = try Dkimpy()
        defer { py.remove() }
        let key = try SigningKey.generate(.rsa)
        let file = try py.add(key, selector: "len", domain: "example.org")
        let signed = try py.signWithLength(Self.message, selector: "len", domain: "example.org", keyFile: file)
        #expect(String(decoding: signed, as: UTF8.self).contains("l="))
        let verifier = DKIMVerifier(lookup: py.table)
        #expect(await verifier.verify(message: signed).map(\.result) == [.pass])
        // Appended text is outside l=; a change inside it is not.
        #expect(await verifier.verify(message: signed + Array("-- \r\nList footer\r\n".utf8)).map(\.result) == [.pass])
        let text = String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "noon", with: "one!")
        #expect(await verifier.verify(message: Fixtures.bytes(text)).map(\.result) == [.fail])
    }

    @Test(arguments: [DKIMKeyRecord.KeyType.rsa, .ed25519])
    func moatSignaturesVerifyInDkimpy(_ type: DKIMKeyRecord.KeyType) throws {
        var py = try Dkimpy()
        defer { py.remove() }
        let key = try SigningKey.generate(type)
        _ = try py.add(key, selector: "moat", domain: "gateway.example")
        let field = try DKIMSigner(domain: "gateway.example", selector: "moat", key: key).sign(message: Self.message)
        let signed = Fixtures.prepend([field], to: Fixtures.plainMessage)
        #expect(try py.verifyDKIM(signed) == "pass")
        let changed = Fixtures.bytes(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "noon", with: "one"))
        #expect(try py.verifyDKIM(changed) == "fail")
    }

    static let received = """
        Authentication-Results: lists.example.org; arc=none; spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org\r
        """ + "\r\n" + Fixtures.plainMessage

    @Test func arcsignedMessagesVerifyInMoatAndMoatsSealOnTopVerifiesInDkimpy() async throws {
        var py = try Dkimpy()
        defer { py.remove() }
        let listKey = try SigningKey.generate(.rsa)
        let listFile = try py.add(listKey, selector: "list", domain: "lists.example.org")
        let sealed = try py.arcsign(Fixtures.bytes(Self.received), selector: "list", domain: "lists.example.org",
                                    keyFile: listFile, srvID: "lists.example.org")
        #expect(try py.verifyARC(sealed).hasPrefix("pass"))
        let moatKey = try SigningKey.generate(.rsa)
        _ = try py.add(moatKey, selector: "moat", domain: "gateway.example")
        let arc = ARCVerifier(lookup: py.table)
        let chain = await arc.verify(message: sealed)
        #expect(chain.result == .pass, "\(chain)")
        #expect(chain.instances == 1)
        #expect(chain.lastSealer == "lists.example.org")

        // Moat changes the message (as a repack would: a header added) and seals it: i=2, cv=pass.
        let changed = Fixtures.bytes("X-Moat: repacked\r\n") + sealed
        let sealer = ARCSealer(domain: "gateway.example", selector: "moat", key: moatKey)
        let fields = try sealer.seal(message: changed, authResults: "gateway.example; arc=pass; dkim=none", chain: chain)
        #expect(fields.map(\.name) == ["ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results"])
        #expect(fields[0].value().contains("i=2;") && fields[0].value().contains("cv=pass"))
        #expect(fields[2].value().hasPrefix("i=2; gateway.example;"))
        let out = Fixtures.bytes(fields.map(\.line).joined()) + changed
        let dkimpySays = try py.verifyARC(out)
        #expect(dkimpySays.hasPrefix("pass"), "\(dkimpySays)")
        let again = await arc.verify(message: out)
        #expect(again.result == .pass, "\(again)")
        #expect(again.instances == 2)
        #expect(again.lastSealer == "gateway.example")
    }

    @Test(arguments: [DKIMKeyRecord.KeyType.rsa, .ed25519])
    func moatsFirstSealVerifiesInDkimpy(_ type: DKIMKeyRecord.KeyType) async throws {
        var py = try Dkimpy()
        defer { py.remove() }
        let key = try SigningKey.generate(type)
        _ = try py.add(key, selector: "moat", domain: "gateway.example")
        let message = Self.message
        let chain = await ARCVerifier(lookup: py.table).verify(message: message)
        #expect(chain.result == .none)
        let fields = try ARCSealer(domain: "gateway.example", selector: "moat", key: key)
            .seal(message: message, authResults: "gateway.example; dkim=none; spf=pass smtp.mailfrom=example.org", chain: chain)
        #expect(fields[0].value().contains("cv=none"))
        let out = Fixtures.bytes(fields.map(\.line).joined()) + message
        let dkimpySays = try py.verifyARC(out)
        #expect(await ARCVerifier(lookup: py.table).verify(message: out).result == .pass)
        guard type == .rsa else {
            // RFC 8617 seals are rsa-sha256 in practice: dkimpy does not take ed25519 ones
            // (hence moat-ctl arc-key makes RSA keys unless told otherwise).
            #expect(dkimpySays.contains("unknown signature algorithm"), "\(dkimpySays)")
            return
        }
        #expect(dkimpySays.hasPrefix("pass"), "\(dkimpySays)")
        // dkimpy's arcsign seals on top of Moat's set (i=2); Moat verifies the mixed chain.
        let listKey = try SigningKey.generate(.rsa)
        let listFile = try py.add(listKey, selector: "list", domain: "lists.example.org")
        let forwarded = try py.arcsign(Fixtures.bytes("Authentication-Results: lists.example.org; arc=pass\r\n") + out,
                                       selector: "list", domain: "lists.example.org", keyFile: listFile, srvID: "lists.example.org")
        let mixed = await ARCVerifier(lookup: py.table).verify(message: forwarded)
        #expect(mixed.result == .pass, "\(mixed)")
        #expect(mixed.instances == 2)
        #expect(mixed.lastSealer == "lists.example.org")
        // A change after the seal breaks its message signature.
        let tampered = Fixtures.bytes(String(decoding: out, as: UTF8.self).replacingOccurrences(of: "noon", with: "one"))
        #expect(try py.verifyARC(tampered).hasPrefix("fail"))
        let check = await ARCVerifier(lookup: py.table).verify(message: tampered)
        #expect(check.result == .fail)
        #expect(check.reason.contains("ARC-Message-Signature"))
    }
}
