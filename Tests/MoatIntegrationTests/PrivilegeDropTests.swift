import Foundation
import Testing

/// moatd started as root runs as `[Root] User` (moat) with CAP_NET_ADMIN and
/// CAP_NET_BIND_SERVICE only, in every thread, as /proc shows it; what it made as root is the
/// user's; the control socket still answers root and refuses the user.
@Suite(.serialized, .offCooperativePool, .enabled(if: getuid() == 0 && getpwnam("moat") != nil, "needs root and the moat user (scripts/create-users.sh)"))
struct PrivilegeDropTests {
    static let twoCapabilities: UInt64 = (1 << 12) | (1 << 10)

    /// A loopback port below 1024 nobody listens on: binding it needs CAP_NET_BIND_SERVICE.
    static func freeLowPort() throws -> Int {
        for port in (600..<1000).shuffled() {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            if bound { return port }
        }
        throw CancellationError()
    }

    @Test func moatdRunsAsMoatWithTheTwoCapabilities() throws {
        let port = try Self.freeLowPort()
        let sandbox = try Sandbox(extra: "SpamdSocket = 127.0.0.1:\(port)\n", consolePort: freeLoopbackPort())
        defer { sandbox.remove() }
        let moat = try #require(getpwnam("moat")).pointee
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let pid = daemon.process.processIdentifier

        let threads = ProcStatus.threads(of: pid)
        #expect(threads.count > 1, "moatd has threads: \(threads.count)")
        for status in [try #require(ProcStatus(pid: pid))] + threads {
            #expect(status.ids("Uid") == Array(repeating: moat.pw_uid, count: 4), "\(status.text)")
            #expect(status.ids("Gid") == Array(repeating: moat.pw_gid, count: 4), "\(status.text)")
            #expect(status.mask("CapEff") == Self.twoCapabilities, "\(status.text)")
            #expect(status.mask("CapPrm") == Self.twoCapabilities, "\(status.text)")
            #expect(status.mask("CapBnd") == Self.twoCapabilities, "\(status.text)")
            #expect(status.mask("CapAmb") == 0 && status.mask("CapInh") == 0, "\(status.text)")
            #expect(status.field("NoNewPrivs") == "1", "\(status.text)")
        }
        #expect(daemon.log.contains("running as moat with cap_net_bind_service,cap_net_admin"), "\(daemon.log)")

        // Port below 1024 (CAP_NET_BIND_SERVICE): spamd answers there.
        let pong = String(decoding: tcpExchange(port: port, Array("PING SPAMC/1.5\r\n\r\n".utf8)), as: UTF8.self)
        #expect(pong.hasPrefix("SPAMD/1.5 0 PONG"), "\(pong)")

        // What moatd made as root is moat's: the CA key 0600, the console's password, VarDir.
        let varDir = sandbox.root.path + "/var"
        for path in [varDir, varDir + "/ca", varDir + "/ca/ca.key", varDir + "/console", varDir + "/console/initial-password",
                     varDir + "/moatd.lock", sandbox.root.path + "/run"] {
            let owner = try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? Int
            #expect(owner == Int(moat.pw_uid), "\(path) belongs to \(owner ?? -1)")
        }
        let keyMode = try FileManager.default.attributesOfItem(atPath: varDir + "/ca/ca.key")[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let socketMode = try FileManager.default.attributesOfItem(atPath: sandbox.socket)[.posixPermissions] as? Int
        #expect(socketMode == 0o600)

        // root is answered; moat (which owns the socket file) is refused by its credentials.
        #expect(try ctl("appinfo", config: sandbox.config).stdout.contains("pid \(pid)"))
        let asMoat = try run("/usr/bin/setpriv", ["--reuid=moat", "--regid=moat", "--clear-groups",
                                                  Binaries.path("moat-ctl"), "appinfo", "--config", sandbox.config])
        #expect(asMoat.status == 5, "\(asMoat.stdout)\(asMoat.stderr)")
        #expect(asMoat.stderr.contains("permission denied"))
        #expect(daemon.log.contains("control connection refused: only root may talk to moatd"))

        // moat-ctl (root) writing the console password: moatd (moat) still reads it.
        _ = try runWithInput(Binaries.path("moat-ctl"), ["console-password", "--config", sandbox.config],
                             input: "a console password\n")
        let passwdOwner = try FileManager.default.attributesOfItem(atPath: varDir + "/console/passwd")[.ownerAccountID] as? Int
        #expect(passwdOwner == Int(moat.pw_uid))

        // A message moat cannot read (a root-only directory): moat-ctl scans it itself.
        let closed = sandbox.root.path + "/closed"
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        let eicar = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
        try "From: a@example.com\r\nSubject: x\r\n\r\n\(eicar)\r\n".write(toFile: closed + "/eicar.eml", atomically: true, encoding: .utf8)
        let scan = try ctl("scan", closed + "/eicar.eml", config: sandbox.config)
        #expect(scan.status == 1 && scan.stdout.contains("THREAT"), "\(scan.stdout)\(scan.stderr)")
        #expect(scan.stderr.contains("moatd could not read \(closed)/eicar.eml: scanned by moat-ctl itself"), "\(scan.stderr)")

        // SIGHUP: moatd (as moat) rereads the root-owned file.
        try sandbox.write(try sandbox.read().replacingOccurrences(of: "ReportLanguages = en", with: "ReportLanguages = en, de"))
        daemon.signal(SIGHUP)
        var generation = 0
        for _ in 0..<50 where generation == 0 {
            usleep(100_000)
            generation = try daemon.generation()
        }
        #expect(generation == 1)
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.socket), "moat removed its socket at the stop")
    }

    @Test func anUnknownUserStopsMoatd() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.write(try sandbox.read().replacingOccurrences(of: "[Root]\n", with: "[Root]\nUser = moat-no-such-user\n"))
        let daemon = try Daemon(sandbox)
        #expect(daemon.waitForExit() == 1)
        #expect(daemon.log.contains("[Root] User = moat-no-such-user: no such user"), "\(daemon.log)")
        #expect(!daemon.log.contains("moatd 0.1.0 starting"))
    }

    @Test func userRootKeepsRootAndSaysSo() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.write(try sandbox.read().replacingOccurrences(of: "[Root]\n", with: "[Root]\nUser = root\n"))
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let status = try #require(ProcStatus(pid: daemon.process.processIdentifier))
        #expect(status.ids("Uid") == [0, 0, 0, 0])
        #expect(daemon.log.contains("[Root] User is root: moatd keeps every privilege of root"), "\(daemon.log)")
    }

    /// The user could not reread the file on reload: moatd says so and does not start.
    @Test func aConfigurationTheUserCannotReadStopsMoatd() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        chmod(sandbox.config, 0o600)
        let daemon = try Daemon(sandbox)
        #expect(daemon.waitForExit() == 1)
        #expect(daemon.log.contains("moat cannot read the configuration file \(sandbox.config)"), "\(daemon.log)")
    }

    /// A VarDir root made (an earlier version, a restore from backup) is handed over whole.
    @Test func aVarDirRootMadeIsHandedOver() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let varDir = sandbox.root.path + "/var"
        try FileManager.default.createDirectory(atPath: varDir + "/antispam", withIntermediateDirectories: true)
        chmod(varDir, 0o755)
        FileManager.default.createFile(atPath: varDir + "/antispam/notes", contents: Data("x".utf8))
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        let moat = try #require(getpwnam("moat")).pointee
        for path in [varDir, varDir + "/antispam", varDir + "/antispam/notes"] {
            let owner = try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? Int
            #expect(owner == Int(moat.pw_uid), "\(path)")
        }
    }
}

/// /proc/<pid>/status (or a thread's), read as the tests see it.
struct ProcStatus {
    let text: String

    init?(pid: Int32, tid: Int32? = nil) {
        let path = tid.map { "/proc/\(pid)/task/\($0)/status" } ?? "/proc/\(pid)/status"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        self.text = text
    }

    static func threads(of pid: Int32) -> [ProcStatus] {
        let tids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tids.compactMap { Int32($0) }.compactMap { ProcStatus(pid: pid, tid: $0) }
    }

    func field(_ name: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .map { $0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces) }
    }

    func ids(_ name: String) -> [UInt32] {
        (field(name) ?? "").split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) }
    }

    func mask(_ name: String) -> UInt64? { field(name).flatMap { UInt64($0, radix: 16) } }
}
