import Foundation
import Testing

/// A real moatd driven by a real moat-ctl: start, appinfo, cfset + reload, SIGHUP, a broken
/// file refused, SIGTERM.
@Suite(.serialized, .offCooperativePool) struct DaemonLifecycleTests {
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

/// `moat-ctl scan` gives the same verdicts through a running moatd and on its own.
@Suite(.serialized, .offCooperativePool) struct ScanCommandTests {
    static let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#

    func writeMessages(in sandbox: Sandbox) throws -> (infected: String, clean: String, mbox: String) {
        let attachment = Data(Self.eicar.utf8).base64EncodedString()
        let infected = """
            From: a@example.com\r
            Subject: invoice\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary=xx\r
            \r
            --xx\r
            Content-Type: text/plain\r
            \r
            see attached\r
            --xx\r
            Content-Type: application/octet-stream; name="invoice.com"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(attachment)\r
            --xx--\r

            """
        let clean = "From: b@example.com\r\nSubject: lunch\r\n\r\nNoon?\r\n"
        let mbox = "From a@example.com Mon Jan  1 00:00:00 2024\n" + clean.replacingOccurrences(of: "\r\n", with: "\n")
            + "\nFrom a@example.com Mon Jan  1 00:00:01 2024\n" + infected.replacingOccurrences(of: "\r\n", with: "\n")
        let paths = (sandbox.root.appendingPathComponent("infected.eml").path, sandbox.root.appendingPathComponent("clean.eml").path,
                     sandbox.root.appendingPathComponent("box.mbox").path)
        try infected.write(toFile: paths.0, atomically: true, encoding: .utf8)
        try clean.write(toFile: paths.1, atomically: true, encoding: .utf8)
        try mbox.write(toFile: paths.2, atomically: true, encoding: .utf8)
        return paths
    }

    @Test func scanWithoutTheDaemon() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let files = try writeMessages(in: sandbox)
        let clean = try ctl("scan", files.clean, config: sandbox.config)
        #expect(clean.status == 0)
        #expect(clean.stdout.hasPrefix("\(files.clean): clean"))
        let infected = try ctl("scan", files.infected, config: sandbox.config)
        #expect(infected.status == 1)
        #expect(infected.stdout.contains("THREAT Moat.Test.EICAR (KnownVirus)"))
        #expect(infected.stdout.contains(#"part 2 application/octet-stream "invoice.com" 68 bytes: Moat.Test.EICAR (KnownVirus)"#))
        #expect(infected.stderr.contains("freshclam"), "a missing signature database is said loudly")
        let mbox = try ctl("scan", files.mbox, config: sandbox.config)
        #expect(mbox.stdout.contains("\(files.mbox)#1: clean"))
        #expect(mbox.stdout.contains("\(files.mbox)#2: THREAT"))
        let missing = try ctl("scan", "/nonexistent/mail.eml", config: sandbox.config)
        #expect(missing.status == 8)
        // --file-list, as clamscan's: the listed paths and the arguments are scanned alike.
        let list = sandbox.root.appendingPathComponent("files.txt").path
        try "\(files.infected)\n\n\(files.mbox)\n".write(toFile: list, atomically: true, encoding: .utf8)
        let listed = try ctl("scan", "--file-list", list, files.clean, config: sandbox.config)
        #expect(listed.status == 1)
        #expect(listed.stdout.contains("\(files.clean): clean"))
        #expect(listed.stdout.contains("\(files.infected): THREAT"))
        #expect(listed.stdout.contains("\(files.mbox)#2: THREAT"))
        let noList = try ctl("scan", "--file-list", "/nonexistent/list", config: sandbox.config)
        #expect(noList.status == 2)
        #expect(noList.stderr.contains("cannot read the file list"))
    }

    @Test func scanThroughTheDaemonGivesTheSameVerdicts() throws {
        let sandbox = try Sandbox(extra: "")
        defer { sandbox.remove() }
        let files = try writeMessages(in: sandbox)
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let info = try ctl("appinfo", config: sandbox.config)
        #expect(info.stdout.contains("ThreatEngine: running"))
        #expect(info.stdout.contains("NO freshclam databases"))

        let result = try ctl("scan", "--json", files.infected, files.clean, config: sandbox.config)
        #expect(result.status == 1)
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        #expect(reports.count == 2)
        let statuses = reports.compactMap { ($0["report"] as? [String: Any])?["parts"] as? [[String: Any]] }
        #expect(statuses.count == 2)
        #expect(daemon.log.contains("only Moat's small test database"))
        let local = try ctl("scan", "--local", files.infected, config: sandbox.config)
        let viaDaemon = try ctl("scan", files.infected, config: sandbox.config)
        #expect(local.stdout == viaDaemon.stdout)
        #expect(!viaDaemon.stdout.contains("spam:"), "a virus scan alone unless --spam")

        // --spam scores the messages too, through moatd and in moat-ctl alike.
        let gtube = sandbox.root.appendingPathComponent("gtube.eml").path
        try "From: a@example.com\r\nSubject: offer\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"
            .write(toFile: gtube, atomically: true, encoding: .utf8)
        let spamViaDaemon = try ctl("scan", "--spam", gtube, config: sandbox.config)
        #expect(spamViaDaemon.status == 0, "spam is not a threat: the exit code is clamscan's")
        #expect(spamViaDaemon.stdout.contains("  spam: "))
        #expect(spamViaDaemon.stdout.contains("GTUBE(1000)"))
        let spamLocal = try ctl("scan", "--spam", "--local", gtube, config: sandbox.config)
        #expect(spamLocal.stdout == spamViaDaemon.stdout)
        let json = try ctl("scan", "--spam", "--json", gtube, config: sandbox.config)
        #expect(json.stdout.contains("\"GTUBE\""))
    }
}

/// Rule sets are checked like every other value: a rule that does not compile never reaches
/// the file or the running daemon.
@Suite(.serialized, .offCooperativePool) struct RuleConfigurationTests {
    @Test func badRuleIsRefusedByCfsetWithItsColumn() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let before = try sandbox.read()
        let result = try ctl("cfset", "MailD.MilterRuleSet", "-a", #"threat_categry in (KnownVirus) : REJECT"#, config: sandbox.config)
        #expect(result.status == 2)
        #expect(result.stderr.contains("did you mean `threat_category`?"), "\(result.stderr)")
        #expect(result.stderr.contains("column 1"))
        #expect(try sandbox.read() == before)
    }

    @Test func badRuleInTheFileIsRefusedOnReload() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        try sandbox.write(try sandbox.read() + "MilterRuleSet = subject match \"x\" : REJEKT\n")
        let reload = try ctl("reload", config: sandbox.config)
        #expect(reload.status == 4)
        #expect(reload.stderr.contains("MailD.MilterRuleSet"))
        #expect(try daemon.generation() == 0)
    }

    @Test func repackPasswordIsDerivedFromTheConfiguredSecret() throws {
        let sandbox = try Sandbox(extra: "RepackPassword = HMAC(gateway secret)\n")
        defer { sandbox.remove() }
        let result = try ctl("repack-password", "moat-1700000000-0011223344556677", config: sandbox.config)
        #expect(result.status == 0)
        #expect(result.stdout.count == 25, "24 hex digits and a newline")
        let explicit = try ctl("repack-password", "moat-1700000000-0011223344556677", "--secret", "gateway secret", config: sandbox.config)
        #expect(explicit.stdout == result.stdout)
    }
}

/// `moat-ctl certificate > ca.pem`: the installation's CA, made on first use, key private.
@Suite(.offCooperativePool) struct CertificateCommandTests {
    @Test func certificatePrintsTheSameCAInPEMAndDER() throws {
        let sandbox = try Sandbox(extra: "")
        defer { sandbox.remove() }
        let pem = try ctl("certificate", config: sandbox.config)
        #expect(pem.status == 0, "\(pem.stderr)")
        #expect(pem.stdout.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(try ctl("certificate", config: sandbox.config).stdout == pem.stdout, "one CA per installation")
        let keyMode = try FileManager.default.attributesOfItem(atPath: sandbox.root.path + "/var/ca/ca.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let der = try ctl("certificate", "--der", config: sandbox.config)
        #expect(der.status == 0)
        #expect(Data(der.stdout.utf8).count > 200)
    }
}
