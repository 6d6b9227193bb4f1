import Foundation
import Testing
@testable import MoatConfig

/// The typed settings in `Settings/Generated` are what the schema generates today, and read
/// what the file says (or the schema's default).
struct GeneratedSettingsTests {
    static var directory: URL {
        SchemaTests.repository.appendingPathComponent(SettingsSource.directory)
    }

    @Test func generatedFilesMatchTheSchema() throws {
        let expected = SettingsSource.files(.moat)
        let present = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".swift") }
        #expect(Set(present) == Set(expected.map(\.name)), "stale typed settings: run scripts/gen-settings.sh")
        for file in expected {
            let onDisk = try? String(contentsOf: Self.directory.appendingPathComponent(file.name), encoding: .utf8)
            #expect(onDisk == file.text, "\(file.name) is stale: run scripts/gen-settings.sh")
        }
    }

    @Test func defaultsComeFromTheSchema() {
        let values = ConfigValues(schema: .moat)
        #expect(values.root.varDir == "/var/lib/moat")
        #expect(values.root.tempDir == "/run/moat/tmp")
        #expect(values.root.defaultLogLevel == .notice)
        #expect(values.linuxFirewall.gatePort == 20025)
        #expect(values.linuxFirewall.inputDivert == .off)
        #expect(values.linuxFirewall.unverifiedUpstream == .untrustedCa)
        #expect(values.linuxFirewall.scanLimits.scanTimeout == .seconds(30))
        #expect(values.mailD.milter.socket == nil)
        #expect(values.mailD.spamd.maxConnections == 256)
        #expect(values.mailD.rspamdScanLimits.scanTimeout == .minutes(3))
        #expect(values.mailD.milter.ruleSet.count == 2)
        #expect(values.mailD.logging.logLevel == .default)
        #expect(values.httpd.adminListen.map(\.description) == ["127.0.0.1:4443"])
        #expect(values.clamD.streamMaxLength == .megabytes(25))
    }

    @Test func valuesComeFromTheFile() throws {
        let text = """
            [Root]
            VarDir = /srv/moat
            [MailD]
            SpamdSocket = 127.0.0.1:7783
            SpamdScanTimeout = 45s
            MilterHeuristicAnalysis = Off
            LogLevel = debug
            [LinuxFirewall]
            UnrecognizedProtocol = close
            CaKeyType = rsa3072
            ArchiveMaxLevel = 3
            OwnServerCertificates = "/etc/a.pem", "/etc/b.pem"
            [HTTPD]
            AdminListen = 127.0.0.1:8443, 127.0.0.2:8443
            """
        let values = try ConfigLoader().load(text: text, file: "t.ini").values
        #expect(values.root.varDir == "/srv/moat")
        #expect(values.mailD.spamd.socket?.description == "127.0.0.1:7783")
        #expect(values.mailD.spamdScanLimits.scanTimeout == .seconds(45))
        // A prefix selects its own interface's members only.
        #expect(values.mailD.milterScanLimits.scanTimeout == .minutes(3))
        #expect(values.mailD.milterScanLimits.heuristicAnalysis == false)
        #expect(values.mailD.spamdScanLimits.heuristicAnalysis == true)
        #expect(values.mailD.logging.logLevel == .debug)
        #expect(values.clamD.logging.logLevel == .default)
        #expect(values.linuxFirewall.unrecognizedProtocol == .close)
        #expect(values.linuxFirewall.caKeyType == .rsa3072)
        #expect(values.linuxFirewall.scanLimits.archiveMaxLevel == 3)
        #expect(values.clamD.scanLimits.archiveMaxLevel == 8)
        #expect(values.linuxFirewall.ownServerCertificates == ["/etc/a.pem", "/etc/b.pem"])
        #expect(values.httpd.adminListen.count == 2)
    }

    @Test func keysNameTheSchemasParameters() {
        for key in [RootSettings.Key.controlSocket, MailDSettings.Key.milterSocket, ClamDSettings.Key.clamdSocket,
                    HTTPDSettings.Key.adminSslKey, LinuxFirewallSettings.Key.inputDivert] {
            #expect(Schema.moat.spec(key) != nil, "\(key)")
        }
    }

    @Test func identifiersFollowSwiftConventions() {
        #expect(SettingsSource.identifier("GatePort") == "gatePort")
        #expect(SettingsSource.identifier("HTTPD") == "httpd")
        #expect(SettingsSource.identifier("ClamD") == "clamD")
        #expect(SettingsSource.identifier("URLPath") == "urlPath")
        #expect(SettingsSource.identifier("Default") == "`default`")
    }
}
