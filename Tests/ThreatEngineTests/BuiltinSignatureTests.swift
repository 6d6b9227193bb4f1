import Foundation
import Synchronization
import Testing
@testable import ThreatEngine

@Suite struct BuiltinSignatureTests {
    @Test func emptyDirectoryFallsBackToBuiltinSignaturesLoudly() throws {
        let scanner = try Fixture.scanner()
        let info = scanner.signatureInfo
        #expect(info.usingBuiltinSignatures)
        #expect(info.signatureCount == BuiltinSignatures.count)
        #expect(info.warnings.count == 1)
        #expect(info.warnings.first?.contains("No ClamAV signatures") == true)
        #expect(info.generation == 1)
        #expect(info.engineVersion.hasPrefix("1."))
    }

    @Test func directoryWithSignaturesIsUsedAsIs() async throws {
        let directory = try Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "Local.Test.Marker:0:*:4d4f41542d4d41524b4552\n"  // "MOAT-MARKER"
            .write(toFile: "\(directory)/local.ndb", atomically: true, encoding: .utf8)
        let scanner = try ThreatScanner(signatureDirectory: directory)
        #expect(!scanner.signatureInfo.usingBuiltinSignatures)
        #expect(scanner.signatureInfo.warnings.isEmpty)
        #expect(scanner.signatureInfo.signatureCount == 1)
        let marked = await scanner.scan(bytes: Array("xx MOAT-MARKER xx".utf8))
        #expect(marked.threats == [Threat(name: "Local.Test.Marker", category: .knownVirus)])
    }

    @Test func malformedSignaturesAreAnError() throws {
        let directory = try Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "this is not a signature\n".write(toFile: "\(directory)/broken.ndb", atomically: true, encoding: .utf8)
        #expect(throws: ThreatEngineError.self) { try ThreatScanner(signatureDirectory: directory) }
    }

    @Test func eicarIsAKnownVirus() async throws {
        let scanner = try Fixture.scanner()
        let result = await scanner.scan(bytes: Fixture.eicarBytes, name: "eicar.com")
        #expect(result == .threats([Threat(name: "Moat.Test.EICAR", category: .knownVirus)]))
    }

    @Test func eicarWithTrailingNewlineIsFound() async throws {
        let scanner = try Fixture.scanner()
        let result = await scanner.scan(bytes: Fixture.eicarBytes + Array("\r\n".utf8))
        #expect(result.threats.map(\.name) == ["Moat.Test.EICAR"])
    }

    @Test func eicarInsideAZipIsFound() async throws {
        let scanner = try Fixture.scanner()
        let zip = try Fixture.nestedZip(depth: 1)
        #expect(zip.starts(with: [0x50, 0x4b, 0x03, 0x04]))
        let result = await scanner.scan(bytes: zip, name: "eicar.zip")
        #expect(result.threats == [Threat(name: "Moat.Test.EICAR", category: .knownVirus)])
    }

    @Test func eicarInsideAMailIsFound() async throws {
        let scanner = try Fixture.scanner()
        let encoded = Data(Fixture.eicarBytes).base64EncodedString()
        let mail = """
            From: a@example.org\r
            To: b@example.org\r
            Subject: test\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain\r
            \r
            hello\r
            --b1\r
            Content-Type: application/octet-stream; name="eicar.com"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(encoded)\r
            --b1--\r

            """
        let result = await scanner.scan(bytes: Array(mail.utf8), name: "message.eml")
        #expect(result.threats.map(\.name) == ["Moat.Test.EICAR"])
    }

    @Test func cleanTextIsClean() async throws {
        let scanner = try Fixture.scanner()
        let text = Array("Dear colleague,\nplease find the minutes attached.\n".utf8)
        #expect(await scanner.scan(bytes: text, name: "note.txt") == .clean)
        #expect(await scanner.scan(bytes: []) == .clean)
    }

    @Test func cleanFileOnDiskIsClean() async throws {
        let scanner = try Fixture.scanner()
        let directory = try Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/hello.txt"
        try "hello".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(await scanner.scan(fileAt: path) == .clean)
    }

    @Test func missingFileIsAnEngineError() async throws {
        let scanner = try Fixture.scanner()
        let result = await scanner.scan(fileAt: "/nonexistent/moat/file")
        guard case .unchecked(.engineError) = result else {
            Issue.record("expected engine error, got \(result)")
            return
        }
    }
}

/// Every file Debian's clamav-testfiles ships is ClamAV's test file, raw, packed or inside an
/// archive/mail/document; libclamav unpacks them all down to clam.exe.
@Suite struct ClamAVTestFileTests {
    static let files: [String] = (try? FileManager.default.contentsOfDirectory(atPath: Fixture.testFilesDirectory))?
        .filter { $0.hasPrefix("clam") }.sorted() ?? []

    @Test func testFilesArePresent() {
        // clamav-testfiles 1.4 ships 44 files; fewer means the package is missing or changed.
        #expect(Self.files.count >= 40, "install the clamav-testfiles package")
    }

    @Test(arguments: files)
    func detectedFromDisk(file: String) async throws {
        let scanner = try ClamAVTestFileTests.sharedScanner()
        let result = await scanner.scan(fileAt: "\(Fixture.testFilesDirectory)/\(file)")
        #expect(result.threats == [Threat(name: "Clamav.Test.File-6", category: .knownVirus)], "\(file): \(result)")
    }

    @Test(arguments: files)
    func detectedFromMemory(file: String) async throws {
        let scanner = try ClamAVTestFileTests.sharedScanner()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(Fixture.testFilesDirectory)/\(file)")))
        let result = await scanner.scan(bytes: bytes, name: file)
        #expect(result.threats == [Threat(name: "Clamav.Test.File-6", category: .knownVirus)], "\(file): \(result)")
    }

    private static let scanner = Result { try Fixture.scanner() }
    static func sharedScanner() throws -> ThreatScanner { try scanner.get() }
}

@Suite struct ClamMessagesTests {
    @Test func libclamavMessagesReachTheHandler() throws {
        let received = Mutex<[String]>([])
        ClamMessages.setHandler { severity, message in
            if severity == .error { received.withLock { $0.append(message) } }
        }
        defer { ClamMessages.setHandler(nil) }
        let directory = try Fixture.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "not a signature\n".write(toFile: "\(directory)/broken.ndb", atomically: true, encoding: .utf8)
        #expect(throws: ThreatEngineError.self) { try ThreatScanner(signatureDirectory: directory) }
        #expect(received.withLock { $0 }.contains { $0.contains(directory) })
    }
}
