import Foundation
import SystemSetupSupport
import Testing

/// A Postfix instance of the test's own: its own config_directory, queue and log under a
/// temporary directory, smtpd on a loopback port, mail for example.org delivered by
/// virtual(8) into one Maildir the test reads. Fails (never skips) when it cannot start.
final class PrivatePostfix: @unchecked Sendable {
    static func start(milterPort: Int?, milterProtocol: Int = 6, extra: [String: String] = [:]) async throws -> PrivatePostfix {
        try await blocking { try PrivatePostfix(milterPort: milterPort, milterProtocol: milterProtocol, extra: extra) }
    }

    let root: String
    let port: Int
    var config: String { root + "/etc" }
    var maildir: String { root + "/mail/bob" }
    var logFile: String { root + "/postfix.log" }

    struct StartFailure: Error, CustomStringConvertible { var description: String }

    init(milterPort: Int?, milterProtocol: Int = 6, extra: [String: String] = [:]) throws {
        for tool in ["/usr/sbin/postfix", "/usr/sbin/postconf", "/usr/bin/swaks"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw StartFailure(description: "\(tool) is missing: install the packages in scripts/deps/milter.txt")
        }
        root = try Support.temporaryDirectory("moat-postfix")
        port = try freePort()
        let fm = FileManager.default
        for dir in ["etc", "queue", "data", "mail"] { try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        guard let postfixUser = getpwnam("postfix") else { throw StartFailure(description: "no postfix user") }
        let uid = postfixUser.pointee.pw_uid, gid = postfixUser.pointee.pw_gid
        chown(root + "/data", uid, gid)
        chown(root + "/mail", uid, gid)
        chmod(root, 0o755)
        try fm.copyItem(atPath: "/etc/postfix/master.cf", toPath: config + "/master.cf")
        var settings: [(String, String)] = [
            ("compatibility_level", "3.6"), ("queue_directory", root + "/queue"), ("data_directory", root + "/data"),
            ("mail_owner", "postfix"), ("setgid_group", "postdrop"), ("inet_interfaces", "127.0.0.1"),
            ("inet_protocols", "ipv4"), ("myhostname", "mx.moat.test"), ("mydestination", ""), ("relay_domains", ""),
            ("virtual_mailbox_domains", "example.org"), ("virtual_mailbox_base", root + "/mail"),
            ("virtual_mailbox_maps", "static:bob/"), ("virtual_uid_maps", "static:\(uid)"), ("virtual_gid_maps", "static:\(gid)"),
            ("mynetworks", "127.0.0.0/8"), ("smtpd_relay_restrictions", "permit_mynetworks, reject"),
            ("maillog_file", root + "/postfix.log"), ("maillog_file_prefixes", root), ("smtputf8_enable", "no"),
            ("alias_maps", ""), ("alias_database", ""), ("local_recipient_maps", ""), ("milter_default_action", "tempfail"),
            ("milter_protocol", "\(milterProtocol)"),
        ]
        if let milterPort { settings.append(("smtpd_milters", "inet:127.0.0.1:\(milterPort)")) }
        settings += extra.sorted { $0.key < $1.key }
        try settings.map { "\($0.0) = \($0.1)" }.joined(separator: "\n").appending("\n")
            .write(toFile: config + "/main.cf", atomically: true, encoding: .utf8)
        try Self.check(runTool("/usr/sbin/postconf", ["-c", config, "-F", "*/*/chroot = n"]), "postconf -F")
        try Self.check(runTool("/usr/sbin/postconf", ["-c", config, "-M#", "smtp/inet"]), "postconf -M#")
        try Self.check(runTool("/usr/sbin/postconf", ["-c", config, "-M", "127.0.0.1:\(port)/inet = 127.0.0.1:\(port) inet n - n - - smtpd"]), "postconf -M")
        try Self.check(runTool("/usr/sbin/postfix", ["-c", config, "start"]), "postfix start")
        let deadline = Date().addingTimeInterval(15)
        while !canConnect(port: port) {
            guard Date() < deadline else {
                throw StartFailure(description: "postfix did not listen on 127.0.0.1:\(port); log: \((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "none")")
            }
            usleep(100_000)
        }
    }

    static func check(_ result: ToolResult, _ what: String) throws {
        guard result.status == 0 else { throw StartFailure(description: "\(what) failed (\(result.status)): \(result.output)") }
    }

    func stop() {
        _ = try? runTool("/usr/sbin/postfix", ["-c", config, "stop"])
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Sends `message` (LF line ends; swaks sends CRLF) and returns swaks' result.
    func send(_ message: String, from: String = "alice@example.com", to: String = "bob@example.org") async throws -> ToolResult {
        try await blocking { try self.sendBlocking(message, from: from, to: to) }
    }

    func sendBlocking(_ message: String, from: String, to: String) throws -> ToolResult {
        let file = root + "/outgoing-\(UUID().uuidString).eml"
        try message.write(toFile: file, atomically: true, encoding: .utf8)
        defer { unlink(file) }
        return try runTool("/usr/bin/swaks", ["--server", "127.0.0.1:\(port)", "--from", from, "--to", to,
                                              "--helo", "client.moat.test", "--data", "@" + file, "--timeout", "60"])
    }

    /// The messages delivered so far, waiting up to `seconds` for `count` of them.
    func delivered(count: Int = 1, seconds: Double = 15) async -> [String] {
        (try? await blocking { self.deliveredBlocking(count: count, seconds: seconds) }) ?? []
    }

    func deliveredBlocking(count: Int, seconds: Double) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var found: [String] = []
        repeat {
            let dir = maildir + "/new"
            found = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
                .compactMap { try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
            if found.count >= count { return found }
            usleep(100_000)
        } while Date() < deadline
        return found
    }

    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Whether the log holds `text` within `seconds` (postlogd writes it behind the SMTP
    /// answers it records).
    func waitForLog(containing text: String, seconds: Double = 15) async -> Bool {
        await LogWait.contains(text, inFileAt: logFile, seconds: seconds)
    }
}

func freePort() throws -> Int { try LoopbackPorts.reserve() }

func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}
