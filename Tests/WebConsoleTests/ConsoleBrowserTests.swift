import Foundation
import MailD
import Testing
@testable import WebConsole

/// The console in a real browser: Debian's headless Chromium, driven through chromium-driver
/// by `Browser/console_browser.py`, logs in and opens the pages. Screenshots of each page go to
/// `.build/test-artefacts/console/` (or `$MOAT_TEST_ARTEFACTS/console`). What a message
/// carries (subject, file names) cannot run script in the page: the CSP forbids inline script
/// and every such field is escaped.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Browser/console_browser.py").path

    static var artefacts: String {
        if let base = ProcessInfo.processInfo.environment["MOAT_TEST_ARTEFACTS"] { return base + "/console" }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/test-artefacts/console").standardized.path
    }

    /// A threat event as a hostile sender would shape it: script in the subject, the file name,
    /// the sender and the Message-ID.
    static let hostile = ThreatEvent(
        time: Date(), interface: "Milter", action: "reject",
        threats: [#"Eicar-Test-Signature (KnownVirus) in 1.2 "\"><svg onload=alert(1)>.exe""#],
        sender: #"<img src=x onerror="document.title='PWNED'">@evil.example"#, recipients: ["bob@example.org"],
        subject: "<script>window.__moat_injected=true;alert('subject')</script>Invoice",
        messageId: "<\"><script>alert(2)</script>@evil.example>", client: "192.0.2.66",
        reason: "MailD.MilterRuleSet rule 1")

    struct Page: Decodable {
        var name: String
        var url: String
        var title: String
        var text: String
        var alert: String?
        var injected: Bool
        var csp_violations: [String]
    }

    struct Report: Decodable {
        var pages: [Page]
        var errors: [String]
    }

    static func spkiPin(_ pem: String) async throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("moat-pin-\(UUID().uuidString).pem").path
        try pem.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        let pipeline = "openssl x509 -in '\(file)' -pubkey -noout | openssl pkey -pubin -outform der"
            + " | openssl dgst -sha256 -binary | base64"
        let result = try await Tool.run("/bin/sh", ["-c", pipeline])
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs the browser; screenshots go to `artefacts/<folder>/` (tests run in parallel, each
    /// with its own folder and browser profile).
    static func browse(_ console: ConsoleFixture, folder: String, steps: [[String: Any]]) async throws -> Report {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"),
                     "chromium-driver is missing: scripts/deps/console.txt installs it")
        let shots = artefacts + "/" + folder
        try? FileManager.default.removeItem(atPath: shots)
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        let stepsFile = shots + "/steps.json"
        try JSONSerialization.data(withJSONObject: steps).write(to: URL(fileURLWithPath: stepsFile))
        let pin = try await spkiPin(console.certificateChainPEM)
        let result = try await Tool.run("/usr/bin/python3", [
            script, "https://127.0.0.1:\(console.port)", console.initialPassword, pin, shots, stepsFile,
        ])
        try? FileManager.default.removeItem(atPath: shots + "/profile")
        let line = try #require(result.out.split(separator: "\n").last, "the browser printed nothing: \(result.err)")
        return try JSONDecoder().decode(Report.self, from: Data(line.utf8))
    }

    @Test func administratorLogsInAndSeesEveryPageWithoutInjectedScript() async throws {
        try await ConsoleFixture.with(threats: [Self.hostile]) { console in
            let report = try await Self.browse(console, folder: "pages", steps: [
                ["path": "/"], ["path": "/threats"], ["path": "/configuration"], ["path": "/archive-password"],
            ])
            #expect(report.errors.isEmpty, "\(report.errors)")
            #expect(report.pages.count == 6)
            #expect(report.pages.first?.url.hasSuffix("/login") == true, "not logged in: the console sends the browser to the login page")
            #expect(report.pages.dropFirst().allSatisfy { !$0.url.hasSuffix("/login") }, "the login held")
            for page in report.pages {
                #expect(page.alert == nil, "\(page.name): an alert ran")
                #expect(!page.injected, "\(page.name): script from a message ran")
                #expect(FileManager.default.fileExists(atPath: Self.artefacts + "/pages/\(page.name).png"), "\(page.name): screenshot")
            }
            let threats = try #require(report.pages.first { $0.name.hasSuffix("threats") })
            // Shown as text, exactly as the sender wrote it.
            #expect(threats.text.contains("<script>window.__moat_injected=true;alert('subject')</script>Invoice"))
            #expect(threats.text.contains(#"<svg onload=alert(1)>.exe"#))
            #expect(threats.title != "PWNED")
        }
    }
}
