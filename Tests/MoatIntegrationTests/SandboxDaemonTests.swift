import Foundation
import Testing

/// moatd with its scan sandbox, as an administrator runs it.
@Suite(.serialized, .offCooperativePool) struct SandboxDaemonTests {
    /// freshclam updates SignatureDir while moatd runs: moatd loads the new signatures by
    /// itself (SignatureCheckInterval, as clamd's SelfCheck), without a SIGHUP.
    @Test func signatureUpdateIsLoadedWithoutSighup() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let signatures = sandbox.root.appendingPathComponent("signatures").path
        try FileManager.default.createDirectory(atPath: signatures, withIntermediateDirectories: true)
        try sandbox.write(try sandbox.read().replacingOccurrences(
            of: "[Root]\n", with: "[Root]\nSignatureDir = \(signatures)\nSignatureCheckInterval = 1s\n"))
        let marker = "MOAT-SELFCHECK-\(UUID().uuidString)"
        let message = sandbox.root.appendingPathComponent("marked.eml").path
        try "From: a@example.org\r\nTo: b@example.org\r\nSubject: update\r\n\r\nThis carries \(marker).\r\n"
            .write(toFile: message, atomically: true, encoding: .utf8)

        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        #expect(try ctl("scan", message, config: sandbox.config).status == 0, "nothing detects the marker yet")

        // What freshclam does: a new database file appears in the directory.
        let hex = marker.utf8.map { String(format: "%02x", $0) }.joined()
        try "Moat.Test.SelfCheck:0:*:\(hex)\n".write(toFile: signatures + "/update.ndb", atomically: true, encoding: .utf8)
        var detected = false
        for _ in 0..<60 where !detected {
            usleep(500_000)
            let result = try ctl("scan", message, config: sandbox.config)
            detected = result.status == 1 && result.stdout.contains("Moat.Test.SelfCheck")
        }
        #expect(detected, "the update was not loaded; log:\n\(daemon.log)")
        #expect(daemon.log.contains("changed: reloading them"))
    }

    /// appinfo says where libclamav runs: sandboxed workers, their user and the supervisor.
    @Test func appinfoShowsTheSandbox() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let info = try ctl("appinfo", config: sandbox.config).stdout
        #expect(info.contains("sandboxed worker processes"), "\(info)")
        if geteuid() == 0 {
            #expect(info.contains("user moat-scan"), "\(info)")
            #expect(!info.contains("WEAKER SANDBOX"), "\(info)")
        }
        // The supervisor is moatd's child, running as the sandbox user.
        let pidText = try #require(info.range(of: #"supervisor pid (\d+)"#, options: .regularExpression).map { info[$0] })
        let supervisor = try #require(pidText.split(separator: " ").last.flatMap { Int32($0) })
        let status = try String(contentsOfFile: "/proc/\(supervisor)/status", encoding: .utf8)
        #expect(status.contains("PPid:\t\(daemon.process.processIdentifier)\n"), "\(status)")
        if geteuid() == 0, let user = getpwnam("moat-scan") {
            #expect(status.contains("Uid:\t\(user.pointee.pw_uid)\t\(user.pointee.pw_uid)\t"), "\(status)")
            #expect(status.contains("NoNewPrivs:\t1"), "\(status)")
            #expect(status.contains("Seccomp:\t2"), "\(status)")
        }
    }

    /// moat-scan.service, as systemd would run it (checked offline: PID 1 here is not
    /// systemd): its own user, no network, moatd's state inaccessible, exposure at most 2.0.
    @Test func scanServiceUnitIsConfined() throws {
        let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("etc/systemd/moat-scan.service").path
        let text = try String(contentsOfFile: unit, encoding: .utf8)
        for line in ["User=moat-scan", "PrivateNetwork=yes", "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                     "InaccessiblePaths=-/var/lib/moat -/etc/moat -/run/moat", "ProtectSystem=strict"] {
            #expect(text.contains(line), "\(line)")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            Issue.record("systemd-analyze is missing (Debian package systemd)")
            return
        }
        let result = try run("/usr/bin/systemd-analyze", ["security", "--offline=true", unit])
        let line = try #require((result.stdout + result.stderr).split(separator: "\n")
            .first { $0.contains("Overall exposure level for moat-scan.service") })
        let exposure = try #require(line.split(separator: " ").compactMap { Double($0) }.first, "\(line)")
        #expect(exposure <= 2.0, "\(line)")
    }
}
