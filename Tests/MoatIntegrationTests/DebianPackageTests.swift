import Foundation
import Testing

/// scripts/package.sh makes a .deb of the built executables (this build's, debug: no release
/// build in the suite), lintian finds no error in it, `apt-get install ./moat_*.deb` installs
/// it on this machine (users, directories, permissions, the unit checked offline: PID 1 is
/// not systemd here), and `apt-get purge` leaves nothing of it behind.
@Suite(.serialized, .offCooperativePool, .enabled(if: PackageTools.present, "needs root, dpkg-deb, dpkg-shlibdeps, lintian and apt-get"))
struct DebianPackageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Only one package test on the machine at a time (other worktrees, CI clones): they
    /// install and purge the same package.
    static func machineLock() throws -> Int32 {
        let fd = open("/tmp/moat-test-package.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw CancellationError() }
        while flock(fd, LOCK_EX) != 0, errno == EINTR {}
        return fd
    }

    func apt(_ arguments: String...) throws -> RunResult {
        try run("/usr/bin/env", ["DEBIAN_FRONTEND=noninteractive", "/usr/bin/apt-get", "-y", "-q",
                                 "-o", "DPkg::Lock::Timeout=600"] + arguments)
    }

    func owner(_ path: String) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = String((attributes[.posixPermissions] as? Int) ?? 0, radix: 8)
        return "\(attributes[.ownerAccountName] ?? "?"):\(attributes[.groupOwnerAccountName] ?? "?") \(mode)"
    }

    @Test(.timeLimit(.minutes(30))) func theDebInstallsAndPurgesCleanly() throws {
        let lock = try Self.machineLock()
        defer { close(lock) }
        // Never over an installation that is not this test's (an administrator's /etc/moat).
        let installed = try run("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "moat"])
        if !installed.stdout.contains("installed"), FileManager.default.fileExists(atPath: "/etc/moat") {
            Issue.record("/etc/moat exists and no moat package owns it: not installing over it")
            return
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("moat-deb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let built = try run("/bin/bash", [Self.repository.path + "/scripts/package.sh", "--binaries", Binaries.directory.path,
                                          "--output", output, "--lintian", "--fast"])
        #expect(built.status == 0, "\(built.stdout)\(built.stderr)")
        let deb = try #require(built.stdout.split(separator: "\n").last.map(String.init))
        #expect(deb.hasSuffix("_amd64.deb") && (deb as NSString).lastPathComponent.hasPrefix("moat_0.1.0-1"))
        #expect(!built.stderr.contains("E: moat"), "lintian errors:\n\(built.stderr)")

        let contents = try run("/usr/bin/dpkg-deb", ["--contents", deb]).stdout
        for path in ["./usr/bin/moatd", "./usr/bin/moat-ctl", "./etc/moat/moat.ini", "./etc/logrotate.d/moat",
                     "./lib/systemd/system/moatd.service", "./usr/share/man/man8/moatd.8.gz",
                     "./usr/bin/moat-scan", "./lib/systemd/system/moat-scan.service", "./usr/share/man/man8/moat-scan.8.gz", "./usr/share/man/man1/moat-ctl.1.gz",
                     "./usr/share/man/man5/moat.ini.5.gz", "./usr/share/doc/moat/copyright", "./usr/share/doc/moat/changelog.Debian.gz"] {
            #expect(contents.contains(" \(path)\n"), "\(path) is not in the package:\n\(contents)")
        }
        let conffiles = try run("/usr/bin/dpkg-deb", ["--info", deb, "conffiles"]).stdout
        #expect(conffiles.contains("/etc/moat/moat.ini"))

        let install = try apt("install", deb)
        defer { _ = try? apt("purge", "moat") }
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        #expect(getpwnam("moat") != nil && getpwnam("moat-scan") != nil)
        #expect(try owner("/etc/moat/moat.ini") == "root:moat 640")
        #expect(try owner("/var/lib/moat") == "moat:moat 700")
        #expect(try owner("/var/log/moat") == "moat:adm 750")
        #expect(try owner("/usr/bin/moatd") == "root:root 755")
        // moatd, as the unit runs it (user moat), reads and validates the installed file.
        let check = try run("/usr/bin/setpriv", ["--reuid=moat", "--regid=moat", "--init-groups", "/usr/bin/moatd",
                                                 "--check", "--config", "/etc/moat/moat.ini"])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        // The installed unit: binaries under /usr/bin, exposure within 2.0 (offline).
        let unit = try String(contentsOfFile: "/lib/systemd/system/moatd.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/moatd --config /etc/moat/moat.ini"))
        if let analyze = SystemdUnitTests.analyze {
            let security = try run(analyze, ["security", "--offline=true", "--threshold=20", "--no-pager",
                                             "/lib/systemd/system/moatd.service"])
            #expect(security.status == 0, "\(security.stdout)\(security.stderr)")
        }
        let manual = try run("/bin/sh", ["-c", "zcat /usr/share/man/man5/moat.ini.5.gz | head -1"]).stdout
        #expect(manual.hasPrefix(".TH MOAT.INI 5"))
        let rotate = try run("/usr/sbin/logrotate", ["--debug", "/etc/logrotate.d/moat"])
        #expect(rotate.status == 0, "\(rotate.stdout)\(rotate.stderr)")
        // Where systemd runs, postinst started the unit: moatd runs as moat with the two
        // capabilities, and root's moat-ctl is answered. (Here PID 1 is not systemd.)
        if FileManager.default.fileExists(atPath: "/run/systemd/system") {
            var active = ""
            for _ in 0..<100 where active != "active" {
                active = try run("/bin/systemctl", ["is-active", "moatd"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                if active != "active" { usleep(200_000) }
            }
            let journal = try run("/bin/journalctl", ["-u", "moatd", "--no-pager", "-n", "50"]).stdout
            #expect(active == "active", "\(journal)")
            let main = try run("/bin/systemctl", ["show", "-p", "MainPID", "--value", "moatd"]).stdout
            if let pid = Int32(main.trimmingCharacters(in: .whitespacesAndNewlines)), let status = ProcStatus(pid: pid) {
                #expect(status.ids("Uid").allSatisfy { $0 == getpwnam("moat")!.pointee.pw_uid })
                #expect(status.mask("CapEff") == PrivilegeDropTests.twoCapabilities)
            }
            #expect(try run("/usr/bin/moat-ctl", ["appinfo"]).status == 0)
            #expect(try run("/bin/systemctl", ["reload", "moatd"]).status == 0)
        }

        let purge = try apt("purge", "moat")
        #expect(purge.status == 0, "\(purge.stdout)\(purge.stderr)")
        for path in ["/etc/moat", "/var/lib/moat", "/var/log/moat", "/usr/bin/moatd", "/usr/bin/moat-ctl",
                     "/lib/systemd/system/moatd.service", "/etc/logrotate.d/moat",
                     "/etc/systemd/system/multi-user.target.wants/moatd.service"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) is left after purge")
        }
        #expect(try run("/usr/bin/dpkg-statoverride", ["--list", "/etc/moat/moat.ini"]).stdout.isEmpty)
        #expect(try run("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "moat"]).stdout.contains("not-installed")
            || (try run("/usr/bin/dpkg-query", ["-W", "moat"])).status != 0)
        // Debian keeps system users at purge (files they own may remain); a reinstall reuses them.
        #expect(getpwnam("moat") != nil)
    }
}

enum PackageTools {
    static var present: Bool {
        getuid() == 0 && ["/usr/bin/dpkg-deb", "/usr/bin/dpkg-shlibdeps", "/usr/bin/lintian", "/usr/bin/apt-get"]
            .allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
