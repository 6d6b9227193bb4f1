import Foundation
import Testing
@testable import MoatConfig

/// A configuration carried over from a Dr.Web box: it loads, keeps every byte, and edits touch
/// only their own lines.
struct RealFileTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/drweb-mail.ini").path

    func load() throws -> LoadedConfig { try ConfigLoader().load(path: Self.path) }

    @Test func drWebFileLoadsWithWarningsForWhatMoatSkips() throws {
        let config = try load()
        let values = config.values
        #expect(values.formatted(ParameterKey("MailD", "ReportLanguages")) == "en, ru, de")
        #expect(values.value("MailD", "MilterSocket") == .address(.tcp(host: "127.0.0.1", port: 3001)))
        #expect(values.value("MailD", "RepackPassword") == .repackPassword(.hmac(secret: "correct horse battery staple")))
        #expect(values.value("MailD", "SpamdRuleSet").texts.count == 2)
        #expect(values.value("LinuxFirewall", "InspectPop3") == .bool(false))
        #expect(values.formatted(ParameterKey("Root", "Log")) == "Syslog:MAIL")
        let skipped = config.warnings.map { $0.parameter ?? "" }
        #expect(skipped == ["Root.AdminSocketPath", "Root.VirusBaseDir", "MailD.ExePath", "LinuxFirewall.XtablesLockPath", "ScanEngine"])
        #expect(config.warnings.allSatisfy { $0.code == .ignoredDrWebSetting && $0.line != nil })
    }

    @Test func untouchedFileIsKeptByteForByte() throws {
        let original = try String(contentsOfFile: Self.path, encoding: .utf8)
        #expect(try load().document.text == original)
    }

    @Test(arguments: [
        ("MailD.MilterScanTimeout", ConfigEdit.set("5m"), ["MilterScanTimeout = 2m"], ["MilterScanTimeout = 5m"]),
        ("MailD.ReportLanguages", .erase("ru"), [#"ReportLanguages = "en", "ru""#, "ReportLanguages = de"], ["ReportLanguages = en, de"]),
        ("LinuxFirewall.UnwrapSsl", .reset, ["UnwrapSsl = Yes"], []),
        ("MailD.SpamdRuleSet", .erase(#"body match (".*buy.*") : REJECT "This is a SPAM message""#),
         [#"SpamdRuleSet1 = body match (".*buy.*") : REJECT "This is a SPAM message""#], []),
    ] as [(String, ConfigEdit, [String], [String])])
    func editsTouchOnlyTheirLines(_ key: String, _ edit: ConfigEdit, _ removed: [String], _ added: [String]) throws {
        let config = try load()
        let result = try config.applying(edit, to: key, loader: ConfigLoader())
        let before = config.document.text.components(separatedBy: "\n")
        let after = result.text.components(separatedBy: "\n")
        #expect(before.filter { !after.contains($0) } == removed)
        #expect(after.filter { !before.contains($0) } == added)
        // Everything else is in the same order.
        #expect(before.filter { !removed.contains($0) } == after.filter { !added.contains($0) })
    }

    @Test func typoIsStillAnErrorNotAWarning() throws {
        #expect(throws: ConfigErrors.self) { try ConfigLoader().load(text: "[MailD]\nExePat = /x\n") }
    }
}
