import Foundation
import Testing
@testable import ThreatEngine

/// Each `…MaxLevel` is counted by Moat per kind of layer; one test per kind, each with a
/// control scan under default limits that finds the threat.
@Suite struct LevelLimitTests {
    static func testFile(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(Fixture.testFilesDirectory)/\(name)")))
    }

    @Test func packedExecutableDeeperThanPackerMaxLevelIsUnchecked() async throws {
        let scanner = try Fixture.scanner()
        let upx = try Self.testFile("clam-upx.exe")
        #expect(await scanner.scan(bytes: upx).threats.map(\.name) == ["Clamav.Test.File-6"])
        var limits = scanner.limits
        limits.packerMaxLevel = 0
        #expect(await scanner.scan(bytes: upx, limits: limits) == .unchecked(.limitExceeded("PackerMaxLevel")))
    }

    @Test func embeddedObjectDeeperThanContainerMaxLevelIsUnchecked() async throws {
        let scanner = try Fixture.scanner()
        let document = try Self.testFile("clam.ole.doc")
        #expect(await scanner.scan(bytes: document).threats.map(\.name) == ["Clamav.Test.File-6"])
        var limits = scanner.limits
        limits.containerMaxLevel = 0
        #expect(await scanner.scan(bytes: document, limits: limits) == .unchecked(.limitExceeded("ContainerMaxLevel")))
    }

    @Test func tarGzCountsAsOneArchiveLevel() async throws {
        let scanner = try Fixture.scanner()
        var limits = scanner.limits
        limits.archiveMaxLevel = 1
        let tarGz = try Self.testFile("clam.tar.gz")
        #expect(await scanner.scan(bytes: tarGz, limits: limits).threats.map(\.name) == ["Clamav.Test.File-6"])
        limits.archiveMaxLevel = 0
        #expect(await scanner.scan(bytes: tarGz, limits: limits) == .unchecked(.limitExceeded("ArchiveMaxLevel")))
    }

    @Test func attachedMessageDeeperThanMailMaxLevelIsUnchecked() async throws {
        let scanner = try Fixture.scanner()
        let encoded = Data(Fixture.eicarBytes).base64EncodedString()
        let inner = """
            From: c@example.org\r
            Subject: inner\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="in"\r
            \r
            --in\r
            Content-Type: application/octet-stream; name="eicar.com"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(encoded)\r
            --in--\r

            """
        let outer = """
            From: a@example.org\r
            To: b@example.org\r
            Subject: forwarded\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="out"\r
            \r
            --out\r
            Content-Type: text/plain\r
            \r
            see attached\r
            --out\r
            Content-Type: message/rfc822\r
            \r
            \(inner)\r
            --out--\r

            """
        let bytes = Array(outer.utf8)
        #expect(await scanner.scan(bytes: bytes).threats.map(\.name) == ["Moat.Test.EICAR"])
        var limits = scanner.limits
        limits.mailMaxLevel = 0
        #expect(await scanner.scan(bytes: bytes, limits: limits) == .unchecked(.limitExceeded("MailMaxLevel")))
    }

    @Test func inputLargerThanMaxFileSizeIsUnchecked() async throws {
        let scanner = try Fixture.scanner(limits: ScanLimits(maxFileSize: 1 << 20))
        let big = [UInt8](repeating: 0x20, count: 2 << 20)
        #expect(await scanner.scan(bytes: big) == .unchecked(.limitExceeded("MaxFileSize")))
    }
}
