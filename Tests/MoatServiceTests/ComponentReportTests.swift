import Testing
import ThreatEngine
@testable import MoatService

/// What `appinfo` says about each interface follows the settings and what really listens.
struct ComponentReportTests {
    static let signatures = SignatureInfo(signatureCount: 7, directory: "/var/lib/clamav", usingBuiltinSignatures: false,
                                          databaseVersion: 27000, engineVersion: "1.4.6", warnings: [], generation: 1)

    @Test func interfacesAreRunningOffOrNotListening() throws {
        let values = try settings("""
            [MailD]
            MilterSocket = 127.0.0.1:7357
            SpamdSocket = 127.0.0.1:783
            [HTTPD]
            AdminListen =
            """)
        let components = ComponentReport.describe(values, controlSocket: "/run/moat/moat-ctl.sock", signatures: Self.signatures,
                                                  running: ["MailD.Milter": "127.0.0.1:7357"])
        let byName = Dictionary(uniqueKeysWithValues: components.map { ($0.name, $0) })
        #expect(byName["MailD.Milter"]?.state == .running)
        #expect(byName["MailD.Milter"]?.listening == ["127.0.0.1:7357"])
        #expect(byName["MailD.Spamd"]?.state == .unavailable)
        #expect(byName["MailD.Rspamd"]?.state == .off)
        #expect(byName["ClamD"]?.state == .off)
        #expect(byName["LinuxFirewall"]?.detail == "InputDivert = Off")
        #expect(byName["HTTPD"]?.detail == "AdminListen not set")
        #expect(components.map(\.name) == ["Control", "ThreatEngine", "MailD.Milter", "MailD.Spamd", "MailD.Rspamd",
                                           "ClamD", "LinuxFirewall", "HTTPD"])
    }

    @Test func consoleThatCouldNotBindSaysWhy() throws {
        let values = try settings("")
        var console = ConsoleStatus.Snapshot()
        console.failures = ["127.0.0.1:4443: address in use"]
        let httpd = ComponentReport.describe(values, controlSocket: "/s", signatures: Self.signatures, console: console).last
        #expect(httpd?.state == .failed)
        #expect(httpd?.detail == "127.0.0.1:4443: address in use")
    }
}
