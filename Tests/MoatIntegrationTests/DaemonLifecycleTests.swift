import Foundation
import Testing

/// A real moatd driven by a real moat-ctl: start, appinfo, cfset + reload, SIGHUP, a broken
/// file refused, SIGTERM.
@Suite(.serialized) struct DaemonLifecycleTests {
    @Test func appinfoAnswersOnARootOnlySocket() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()

        let info = try ctl("appinfo", config: sandbox.config)
        #expect(info.status == 0)
        #expect(info.stdout.contains("moatd 0.1.0 pid \(daemon.process.processIdentifier)"))
        #expect(info.stdout.contains("Control: running on \(sandbox.socket)"))
        #expect(info.stdout.contains("MailD.Milter: off"))
        #expect(info.stdout.contains("LinuxFirewall: off"))

        let socketMode = try FileManager.default.attributesOfItem(atPath: sandbox.socket)[.posixPermissions] as? Int
        #expect(socketMode == 0o600)
        let dirMode = try FileManager.default.attributesOfItem(atPath: sandbox.root.appendingPathComponent("run").path)[.posixPermissions] as? Int
        #expect(dirMode == 0o700)

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.socket), "the socket is removed at a clean stop")
        #expect(daemon.log.contains("moatd stopped"))
    }

    @Test func cfsetChangesTheFileAndTheRunningDaemon() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        #expect(try daemon.generation() == 0)

        let set = try ctl("cfset", "MailD.ReportLanguages", "-a", "ru", config: sandbox.config)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(try ctl("cfshow", "MailD.ReportLanguages", config: sandbox.config).stdout == "MailD.ReportLanguages = en, ru\n")
        #expect(try sandbox.read().contains("# languages of reports\nReportLanguages = en, ru\n"))
        #expect(try daemon.generation() == 1, "cfset made the running daemon reload")
        #expect(daemon.log.contains("changed=MailD.ReportLanguages"))

        let reset = try ctl("cfset", "MailD.ReportLanguages", "-r", config: sandbox.config)
        #expect(reset.status == 0)
        #expect(try ctl("cfshow", "MailD.ReportLanguages", "--value", config: sandbox.config).stdout == "en\n")
        #expect(try sandbox.read().contains("# languages of reports\n"))
        #expect(try daemon.generation() == 2)
    }

    @Test func badValueIsRefusedAndTheFileIsUnchanged() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let before = try sandbox.read()
        let result = try ctl("cfset", "MailD.MilterScanTimeout", "soon", config: sandbox.config)
        #expect(result.status == 2)
        #expect(result.stderr.contains("MailD.MilterScanTimeout"))
        #expect(result.stderr.contains("expected"))
        #expect(try sandbox.read() == before)

        let unknown = try ctl("cfset", "MailD.ReportLanguage", "ru", config: sandbox.config)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("did you mean MailD.ReportLanguages?"))
        #expect(try sandbox.read() == before)
    }

    @Test func brokenFileIsRefusedAndTheDaemonKeepsItsSettings() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let good = try sandbox.read()

        try sandbox.write(good + "MilterScanTimeout = whenever\n")
        let reload = try ctl("reload", config: sandbox.config)
        #expect(reload.status == 4)
        #expect(reload.stderr.contains("MailD.MilterScanTimeout"))
        #expect(reload.stderr.contains("previous settings stay"))
        #expect(try daemon.generation() == 0)

        daemon.signal(SIGHUP)
        usleep(300_000)
        #expect(daemon.process.isRunning)
        #expect(try daemon.generation() == 0, "SIGHUP with a broken file changes nothing")
        #expect(daemon.log.contains("reload refused"))

        // Fixed, SIGHUP applies it.
        try sandbox.write(good.replacingOccurrences(of: "ReportLanguages = en", with: "ReportLanguages = en, de"))
        daemon.signal(SIGHUP)
        var generation = 0
        for _ in 0..<50 where generation == 0 {
            usleep(100_000)
            generation = try daemon.generation()
        }
        #expect(generation == 1)

        let ok = try ctl("reload", config: sandbox.config)
        #expect(ok.status == 0)
        #expect(ok.stdout.contains("no setting changed"))
    }

    @Test func moatCtlWithoutADaemon() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let reload = try ctl("reload", config: sandbox.config)
        #expect(reload.status == 3)
        #expect(reload.stderr.contains("moatd is not running"))
        #expect(try ctl("appinfo", config: sandbox.config).status == 3)
        // The file can still be shown and changed.
        #expect(try ctl("cfset", "MailD.RepackPassword", "HMAC(s3cret)", config: sandbox.config).status == 0)
        let shown = try ctl("cfshow", "MailD", "--changed", config: sandbox.config)
        #expect(shown.stdout == "MailD.RepackPassword = HMAC(s3cret)\n")
    }

    @Test func moatdRefusesAnInvalidFileAtStart() throws {
        let sandbox = try Sandbox(extra: "MilterSocket = nowhere\n")
        defer { sandbox.remove() }
        let result = try run(Binaries.path("moatd"), ["--config", sandbox.config])
        #expect(result.status == 78)
        #expect(result.stderr.contains("MailD.MilterSocket"))
        let check = try run(Binaries.path("moatd"), ["--check", "--config", "/nonexistent/moat.ini"])
        #expect(check.status == 78)
    }

    @Test func secondDaemonDoesNotStealTheSocket() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let first = try Daemon(sandbox)
        try first.waitUntilAnswering()
        let second = try Daemon(sandbox)
        #expect(second.waitForExit() == 1)
        #expect(first.process.isRunning)
        #expect(try ctl("appinfo", config: sandbox.config).stdout.contains("pid \(first.process.processIdentifier)"))
    }
}
