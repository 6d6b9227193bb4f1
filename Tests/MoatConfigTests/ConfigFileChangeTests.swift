import Foundation
import Testing
@testable import MoatConfig

/// The one path `moat-ctl cfset` and the console's form take to change the file.
struct ConfigFileChangeTests {
    func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moat-change-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesWhatApplyingGivesKeepingTheMode() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/moat.ini"
        try EditTests.adminFile.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o640)
        let expected = try ConfigLoader().load(text: EditTests.adminFile, file: path)
            .applying(.add("ru"), to: "MailD.ReportLanguages", loader: ConfigLoader()).text
        let result = try ConfigFileChange.apply(.add("ru"), to: "MailD.ReportLanguages", inFileAt: path, loader: ConfigLoader())
        #expect(result.changed)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == expected)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o640)
    }

    @Test func invalidValueWritesNothing() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/moat.ini"
        try EditTests.adminFile.write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            try ConfigFileChange.apply(.set("soon"), to: "MailD.MilterScanTimeout", inFileAt: path, loader: ConfigLoader())
        } throws: { error in
            guard case ConfigFileChange.Failure.invalid(let errors) = error else { return false }
            return errors.description.contains("MailD.MilterScanTimeout")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == EditTests.adminFile)
        #expect(!FileManager.default.fileExists(atPath: path + ".moat-new"))
    }

    @Test func aMissingFileIsCreatedByTheFirstChange() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/moat.ini"
        let result = try ConfigFileChange.apply(.set("HMAC(s3cret)"), to: "MailD.RepackPassword", inFileAt: path, loader: ConfigLoader())
        #expect(result.changed)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("[MailD]\nRepackPassword = HMAC(s3cret)\n"))
        let same = try ConfigFileChange.apply(.set("HMAC(s3cret)"), to: "MailD.RepackPassword", inFileAt: path, loader: ConfigLoader())
        #expect(!same.changed)
    }
}
