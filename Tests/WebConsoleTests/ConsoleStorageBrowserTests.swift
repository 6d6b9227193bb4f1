import Foundation
import Logging
import MailD
import MoatService
import Storage
import SystemSetupSupport
import Testing
import ThreatEngine
@testable import WebConsole

/// The quarantine, the message log and the statistics in a real browser (headless Chromium):
/// an administrator finds a quarantined message whose subject and file name carry HTML and
/// script, opens it (header fields and parts as text, never rendered), releases it to a real
/// SMTP server (Postfix's smtp-sink), searches the message log and sees the charts.
@Suite(.serialized) struct ConsoleStorageBrowserTests {
    static let scanner: ThreatScanner = {
        try! ThreatScanner(signatureDirectory: "/nonexistent-moat-test-signatures", limits: ScanLimits(scanTimeout: .seconds(900)))
    }()

    static let hostileSubject = "<script>window.__moat_injected=true</script>Invoice <img src=x onerror=alert(1)>"

    static func message() -> [UInt8] {
        let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
        return Array("""
            From: Eve <eve@evil.test>\r
            To: Bob <bob@example.org>\r
            Subject: \(hostileSubject)\r
            Message-ID: <browser-1@evil.test>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/html\r
            \r
            <html><body><script>window.__moat_injected=true</script><b>Pay now</b></body></html>\r
            --b1\r
            Content-Type: application/octet-stream; name="x.com"\r
            Content-Disposition: attachment; filename="\\"><svg onload=alert(2)>.com"\r
            \r
            \(eicar)\r
            --b1--\r

            """.utf8)
    }

    @Test func administratorFindsReleasesAndCountsAQuarantinedMessage() async throws {
        let sink = try SMTPSink()
        defer { sink.stop() }
        let varDir = NSTemporaryDirectory() + "moat-console-storage-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: varDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: varDir) }
        let store = try GatewayStores.make(database: "", sqlitePath: varDir + "/moat.sqlite", logger: Logger(label: "test"))
        let storage = GatewayStorage(store: store, varDir: varDir, node: "gw-a", logger: Logger(label: "test"),
                                     settings: GatewayStorage.Settings(releaseRelay: ("127.0.0.1", sink.port)))
        let writer = storage.writer
        let writing = Task { await writer.run() }
        let core = MailCore(scanner: Self.scanner, spoolDirectory: varDir + "/spool", recorder: storage.records)
        let profile = CheckProfile(name: "Milter", limits: ScanLimits(scanTimeout: .seconds(900)),
                                   rules: ["threat_category : QUARANTINE, REJECT"])
        let envelope = Envelope(source: .milter, sender: "eve@evil.test", recipients: ["bob@example.org"], clientAddress: "198.51.100.7")
        let decision = await core.decide(envelope: envelope, message: .bytes(Self.message()), profile: profile)
        let id = try #require(decision.quarantine?.id)
        let clean = Array("From: alice@example.org\r\nTo: bob@example.org\r\nSubject: lunch\r\n\r\nNoon?\r\n".utf8)
        _ = await core.decide(envelope: envelope, message: .bytes(clean), profile: profile)
        await writer.flush()

        try await ConsoleFixture.with(storage: storage) { console in
            let report = try await ConsoleBrowserTests.browse(console, folder: "storage", steps: [
                ["path": "/quarantine?recipient=bob%40example.org", "name": "quarantine"],
                ["path": "/quarantine/item?id=\(id)", "name": "quarantine-item"],
                ["path": "/quarantine/item?id=\(id)", "name": "quarantine-released", "click": ["Release to the recipients"]],
                ["path": "/log?recipient=bob%40example.org", "name": "message-log"],
                ["path": "/statistics", "name": "statistics"],
            ])
            #expect(report.errors.isEmpty, "\(report.errors)")
            for page in report.pages {
                #expect(page.alert == nil && !page.injected, "\(page.name): script from the message ran")
                #expect(FileManager.default.fileExists(atPath: ConsoleBrowserTests.artefacts + "/storage/\(page.name).png"))
            }
            func page(_ suffix: String) throws -> ConsoleBrowserTests.Page {
                try #require(report.pages.first { $0.name.hasSuffix(suffix) }, "no page \(suffix)")
            }
            #expect(try page("-quarantine").text.contains(Self.hostileSubject), "the subject shows as text")
            let item = try page("-quarantine-item")
            #expect(item.text.contains(#""><svg onload=alert(2)>.com"#), "the file name shows as text")
            #expect(item.text.contains("text/html"))
            for shown in report.pages {
                #expect(!shown.text.contains("<td>") && !shown.text.contains("WebConsole."), "\(shown.name): markup shown as text")
            }
            #expect(!item.text.contains("Pay now"), "the HTML part is never rendered")
            #expect(try page("-quarantine-released").text.contains("Released to 127.0.0.1:\(sink.port): accepted for bob@example.org"))
            let log = try page("-message-log").text
            #expect(log.contains("quarantine") && log.contains("lunch"))
            #expect(try page("-statistics").text.contains("Messages per hour, last 24 hours"))
        }
        let delivered = try #require(sink.messages().first, "the released message reached the SMTP server")
        #expect(delivered.contains("X-Moat-Released-By: admin (console, 127.0.0.1)"))
        #expect(delivered.contains("Message-ID: <browser-1@evil.test>"))
        writing.cancel()
        await writing.value
        await store.close()
    }
}
