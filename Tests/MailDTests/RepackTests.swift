import Foundation
import MoatConfig
import Policy
import Testing
@testable import MailD

/// A repacked message checked by independent tools: Python's `email` package reads its
/// structure, 7-Zip opens (or refuses) its archive.
@Suite struct RepackTests {
    static let rules = [#"threat_category in (KnownVirus) : REPACK "a threat was found""#]

    func repacked(password: RepackPassword, languages: [String] = ["en", "ru", "de"], contacts: String = "postmaster@example.org")
        async throws -> (original: [UInt8], decision: Decision) {
        let original = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        var profile = CheckProfile(name: "Milter", limits: SharedCore.limits, rules: Self.rules)
        profile.repack = Repacker.Settings(languages: languages, templatesDir: "/nonexistent", contacts: contacts, password: password)
        let decision = await try SharedCore.core().decide(envelope: Envelope(source: .milter), message: .bytes(original), profile: profile)
        return (original, decision)
    }

    /// Runs python3 on the message and returns what the script printed.
    func python(_ script: String, message: [UInt8]) throws -> String {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(message).write(to: dir.appendingPathComponent("m.eml"))
        try script.write(to: dir.appendingPathComponent("s.py"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "s.py"]
        process.currentDirectoryURL = dir
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static let inspect = """
        import email, email.policy, json
        m = email.message_from_bytes(open("m.eml", "rb").read(), policy=email.policy.default)
        parts = list(m.iter_parts())
        out = {"subject": m["subject"], "type": m.get_content_type(), "id": m["X-Moat-Archive-Id"],
               "parts": [p.get_content_type() for p in parts],
               "report": parts[0].get_content(),
               "inner": [p.get_content_type() for p in parts[1].iter_parts()],
               "text": parts[1].get_payload()[0].get_content(),
               "archive_name": parts[2].get_filename()}
        open("archive.zip", "wb").write(parts[2].get_content())
        import subprocess
        print(json.dumps(out))
        """

    func sevenZip(_ archive: [UInt8], password: String?) throws -> (status: Int32, content: String?) {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(archive).write(to: dir.appendingPathComponent("a.zip"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/7z")
        process.arguments = ["x", "-y", "-p\(password ?? "")", "-o\(dir.path)/out", "a.zip"]
        process.currentDirectoryURL = dir
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let content = try? String(contentsOf: dir.appendingPathComponent("out/eicar.com"), encoding: .utf8)
        return (process.terminationStatus, content)
    }

    func archive(of message: [UInt8]) throws -> [UInt8] {
        let parsed = try python("""
            import email, email.policy, sys
            m = email.message_from_bytes(open("m.eml", "rb").read(), policy=email.policy.default)
            sys.stdout.write(list(m.iter_parts())[2].get_content().hex())
            """, message: message)
        var bytes: [UInt8] = []
        var index = parsed.startIndex
        while index < parsed.endIndex, let next = parsed.index(index, offsetBy: 2, limitedBy: parsed.endIndex) {
            bytes.append(UInt8(parsed[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    @Test func repackedMessageKeepsHeadersAndCleanPartsAndReportsInEveryLanguage() async throws {
        let (original, decision) = try await repacked(password: .none)
        #expect(decision.action == .repack("a threat was found"))
        let message = try #require(decision.repackedMessage)
        let json = try python(Self.inspect, message: message)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(parsed["subject"] as? String == "the file you asked for")
        #expect(parsed["type"] as? String == "multipart/mixed")
        #expect(parsed["parts"] as? [String] == ["text/plain", "multipart/mixed", "application/zip"])
        #expect(parsed["inner"] as? [String] == ["text/plain", "text/plain"], "the threat became a notice")
        #expect(parsed["text"] as? String == "Here it is.", "the clean part is unchanged")
        #expect(parsed["archive_name"] as? String == "quarantine.zip")
        let report = try #require(parsed["report"] as? String)
        #expect(report.contains("This message was repacked by Moat"))
        #expect(report.contains("Это сообщение было перепаковано"))
        #expect(report.contains("Diese Nachricht wurde"))
        #expect(report.contains("Moat.Test.EICAR (KnownVirus)"))
        #expect(report.contains("\"eicar.com\""))
        #expect(report.contains("postmaster@example.org"))
        #expect(report.contains(try #require(parsed["id"] as? String)))

        // Header fields and the clean part are byte for byte those of the original.
        let originalText = String(decoding: original, as: UTF8.self)
        let repackedText = String(decoding: message, as: UTF8.self)
        for field in ["From: Alice <alice@example.com>\r\n", "To: Bob <bob@example.org>\r\n", "Message-ID: <attach-eicar.com@example.com>\r\n"] {
            #expect(originalText.contains(field) && repackedText.contains(field))
        }
        #expect(repackedText.contains("--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere it is.\r\n--b1\r\n"))
        // Nothing of the threat is left in the clear.
        #expect(!repackedText.contains(Fixtures.base64Lines(Fixtures.eicar)))
    }

    @Test func unprotectedArchiveOpensWithoutAPassword() async throws {
        let (_, decision) = try await repacked(password: .none)
        let zip = try archive(of: try #require(decision.repackedMessage))
        let opened = try sevenZip(zip, password: nil)
        #expect(opened.status == 0)
        #expect(opened.content.map { Array($0.utf8) } == Fixtures.eicar)
    }

    @Test func plainPasswordProtectsTheArchiveWithAES() async throws {
        let (_, decision) = try await repacked(password: .plain("s3cret pass"))
        let zip = try archive(of: try #require(decision.repackedMessage))
        #expect(try sevenZip(zip, password: "s3cret pass").content.map { Array($0.utf8) } == Fixtures.eicar)
        #expect(try sevenZip(zip, password: "wrong").status != 0)
        let listing = try run7zList(zip, password: "s3cret pass")
        #expect(listing.contains("AES-256"), "\(listing)")
    }

    @Test func hmacPasswordIsRecoveredFromTheIdentifier() async throws {
        let (_, decision) = try await repacked(password: .hmac(secret: "gateway secret"))
        let message = try #require(decision.repackedMessage)
        let id = try #require(String(decoding: message, as: UTF8.self).split(separator: "\r\n")
            .first { $0.hasPrefix("X-Moat-Archive-Id: ") }?.dropFirst("X-Moat-Archive-Id: ".count))
        let password = ArchivePassword.derive(secret: "gateway secret", archiveId: String(id))
        let zip = try archive(of: message)
        #expect(try sevenZip(zip, password: password).content.map { Array($0.utf8) } == Fixtures.eicar)
        #expect(try sevenZip(zip, password: ArchivePassword.derive(secret: "other secret", archiveId: String(id))).status != 0)
        #expect(decision.reason.contains(String(id)))
    }

    @Test func repackWithNothingToRemovePasses() async throws {
        var profile = CheckProfile(name: "Milter", limits: SharedCore.limits, rules: ["REPACK"])
        profile.repack = Repacker.Settings()
        let decision = await try SharedCore.core().decide(envelope: Envelope(source: .milter),
            message: .bytes(Array("Subject: hi\r\n\r\nhello\r\n".utf8)), profile: profile)
        #expect(decision.action == .pass)
        #expect(decision.repackedMessage == nil)
    }

    @Test func derivedPasswordsDifferPerIdentifierAndSecret() {
        let a = ArchivePassword.derive(secret: "s", archiveId: "moat-1-aa")
        #expect(a.count == 24)
        #expect(a == ArchivePassword.derive(secret: "s", archiveId: "moat-1-aa"))
        #expect(a != ArchivePassword.derive(secret: "s", archiveId: "moat-1-ab"))
        #expect(a != ArchivePassword.derive(secret: "t", archiveId: "moat-1-aa"))
    }

    func run7zList(_ zip: [UInt8], password: String) throws -> String {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(zip).write(to: dir.appendingPathComponent("a.zip"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/7z")
        process.arguments = ["l", "-slt", "-p\(password)", "a.zip"]
        process.currentDirectoryURL = dir
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
