import Foundation
import NIOCore
import NIOPosix
import SystemSetupSupport
import Testing
@testable import Gate
import MailD
#if canImport(Glibc)
import Glibc
#endif

/// Runs a command to its end; output and status.
@discardableResult
func run(_ executable: String, _ arguments: [String]) -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return (-1, "", "\(error)") }
    // Read both pipes concurrently: a large output must not block the child.
    let errData = MutexBox<Data>(Data())
    let reader = Thread { errData.value = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errData.done { usleep(10_000) }
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errData.value, as: UTF8.self))
}

final class MutexBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    private var finished = false
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; finished = true; lock.unlock() }
    }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
}

/// Runs blocking test code (sockets, child processes) on a thread of its own: blocking one of
/// the few cooperative threads would starve the Gate's checks (Tasks) of the tests beside it.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

struct GateTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A real Dovecot (POP3 and IMAP, plaintext, one static user "bob" / "secret") with a private
/// configuration, run in the foreground, optionally inside a network namespace.
final class Dovecot {
    let root: String
    let process = Process()
    var log: String {
        ((try? String(contentsOfFile: root + "/dovecot.log", encoding: .utf8)) ?? "")
            + ((try? String(contentsOfFile: root + "/stderr.log", encoding: .utf8)) ?? "")
    }

    /// `messages`: file name in Maildir `new/` → bytes.
    /// `extraConfig`: appended to the configuration (later settings win: `ssl = yes`, ...).
    init(listen: String, pop3Port: Int, imapPort: Int, messages: [(String, String)], namespace: String? = nil,
         extraConfig: String = "") throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/dovecot") else {
            throw GateTestFailure("/usr/sbin/dovecot is missing: install dovecot-imapd and dovecot-pop3d (scripts/deps/gate.txt)")
        }
        root = GateFixtures.temporaryDirectory()
        let fm = FileManager.default
        for dir in ["run", "home", "mail/bob/new", "mail/bob/cur", "mail/bob/tmp"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        for (name, text) in messages {
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/mail/bob/new/" + name))
        }
        let config = """
            protocols = pop3 imap
            listen = \(listen)
            base_dir = \(root)/run
            log_path = \(root)/dovecot.log
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain
            default_login_user = dovenull
            default_internal_user = dovecot
            first_valid_uid = 0
            passdb {
              driver = static
              args = password=secret
            }
            userdb {
              driver = static
              args = uid=dovecot gid=dovecot home=\(root)/home/%u
            }
            mail_location = maildir:\(root)/mail/%u
            login_trusted_networks = 10.0.0.0/8 127.0.0.0/8
            service imap-login {
              inet_listener imap {
                port = \(imapPort)
              }
              inet_listener imaps {
                port = 0
              }
            }
            service pop3-login {
              inet_listener pop3 {
                port = \(pop3Port)
              }
              inet_listener pop3s {
                port = 0
              }
            }

            """ + extraConfig
        try config.write(toFile: root + "/dovecot.conf", atomically: true, encoding: .utf8)
        // The mail and home directories belong to the mail user; the path to them must be open.
        chmod(root, 0o755)
        _ = run("/bin/chown", ["-R", "dovecot:dovecot", root + "/mail", root + "/home"])
        // The spawning thread's blocked signals are inherited through exec, and Dovecot's master
        // does not unblock them: without SIGCHLD and SIGTERM it neither reaps its children nor
        // stops. Python clears the mask before it execs Dovecot.
        let unblock = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, set()); os.execv(sys.argv[1], sys.argv[1:])"
        let command = ["/usr/bin/env", "python3", "-c", unblock, "/usr/sbin/dovecot", "-c", root + "/dovecot.conf", "-F"]
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace] + command
        } else {
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
        }
        FileManager.default.createFile(atPath: root + "/stderr.log", contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/stderr.log"))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        // Ready when both ports accept connections.
        let deadline = Date().addingTimeInterval(20)
        var ready = false
        while Date() < deadline, process.isRunning, !ready {
            let ss = (namespace.map { run("/usr/sbin/ip", ["netns", "exec", $0, "/usr/bin/ss", "-ltnH"]) }
                ?? run("/usr/bin/ss", ["-ltnH"])).out
            if ss.contains(":\(pop3Port) "), ss.contains(":\(imapPort) ") { ready = true } else { usleep(100_000) }
        }
        guard ready else {
            let text = log
            stop()
            throw GateTestFailure("Dovecot did not start: \(text)")
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// The mail client: Python's poplib and imaplib, reading everything in bob's mailbox over POP3
/// (greeting, CAPA, UIDL, RETR, TOP) and IMAP (CAPABILITY, whole and partial fetches).
enum MailboxClient {
    static let script = #"""
        import base64, imaplib, json, poplib, sys
        host, pop3_port, imap_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        b64 = lambda b: base64.b64encode(b).decode()
        out = {}
        p = poplib.POP3(host, pop3_port, timeout=60)
        out["pop3_greeting"] = p.getwelcome().decode()
        out["pop3_capa"] = sorted(p.capa().keys())
        p.user("bob"); p.pass_("secret")
        out["pop3_uidl"] = [x.decode() for x in p.uidl()[1]]
        count = len(p.list()[1])
        out["pop3_retr"] = []
        for i in range(1, count + 1):
            resp, lines, octets = p.retr(i)
            out["pop3_retr"].append(b64(b"\r\n".join(lines) + b"\r\n"))
        out["pop3_top"] = [b64(b"\r\n".join(p.top(i, 0)[1]) + b"\r\n") for i in range(1, count + 1)]
        p.quit()
        m = imaplib.IMAP4(host, imap_port, timeout=60)
        out["imap_capabilities"] = sorted(m.capabilities)
        m.login("bob", "secret")
        m.select("INBOX")
        for item in ["BODY.PEEK[]", "RFC822", "BINARY.PEEK[]", "BODY.PEEK[]<0.20>"]:
            typ, data = m.fetch("1:*", "(UID %s)" % item)
            out["imap " + item] = [b64(d[1]) for d in data if isinstance(d, tuple)]
        m.logout()
        print(json.dumps(out))
        """#

    struct Result: @unchecked Sendable {
        var json: [String: Any]
        func strings(_ key: String) -> [String] { json[key] as? [String] ?? [] }
        func messages(_ key: String) -> [String] {
            strings(key).map { String(decoding: Data(base64Encoded: $0) ?? Data(), as: UTF8.self) }
        }
    }

    /// `fetch` on a thread of its own: a test blocked in it must not hold one of the few
    /// cooperative threads the Gate's checks (Tasks) need.
    static func fetchOffPool(host: String, pop3Port: Int, imapPort: Int) async throws -> Result {
        try await offPool { try fetch(host: host, pop3Port: pop3Port, imapPort: imapPort) }
    }

    static func fetch(host: String, pop3Port: Int, imapPort: Int, namespace: String? = nil) throws -> Result {
        let path = GateFixtures.temporaryDirectory() + "/client.py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let arguments = ["python3", path, host, "\(pop3Port)", "\(imapPort)"]
        let result = namespace.map { run("/usr/sbin/ip", ["netns", "exec", $0, "/usr/bin/env"] + arguments) }
            ?? run("/usr/bin/env", arguments)
        guard result.status == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
        else { throw GateTestFailure("mail client failed (\(result.status)): \(result.err)\(result.out)") }
        return Result(json: json)
    }
}

enum MailboxFixtures {
    static let clean = GateFixtures.cleanMessage("mailbox")
    static let eicar = GateFixtures.eicarMessage()
    static let messages = [("1700000001.M1P1.moat", clean), ("1700000002.M2P1.moat", eicar)]

    /// What both protocols must show: the clean message byte for byte, the EICAR one repacked.
    static func check(_ got: MailboxClient.Result, direct: MailboxClient.Result? = nil, via: String) {
        for key in ["pop3_retr", "imap BODY.PEEK[]", "imap RFC822", "imap BINARY.PEEK[]"] {
            let messages = got.messages(key)
            #expect(messages.count == 2, "\(via) \(key): \(messages.count) messages")
            guard messages.count == 2 else { continue }
            #expect(messages[0] == clean, "\(via) \(key): the clean message is byte-identical")
            let repacked = messages[1]
            #expect(!repacked.contains("EICAR-STANDARD-ANTIVIRUS-TEST-FILE"), "\(via) \(key): no EICAR in the clear")
            #expect(!repacked.contains(Data(GateFixtures.eicar.utf8).base64EncodedString()), "\(via) \(key): nor its base64")
            #expect(repacked.contains("X-Moat-Archive-Id: "), "\(via) \(key): repacked\n\(repacked)")
            #expect(repacked.contains("quarantine.zip"), "\(via) \(key): archive attached")
            #expect(repacked.contains("Subject: the test file"), "\(via) \(key): the original header stays")
        }
        if let direct {
            // Greeting (APOP timestamp), CAPA, UIDL, TOP with ScanPop3Top = No: untouched.
            for key in ["pop3_capa", "pop3_uidl", "pop3_top"] {
                #expect(got.strings(key) == direct.strings(key), "\(via) \(key)")
            }
            // Partial fetches are relayed unscanned, except for a message already known bad
            // (the whole-message fetch before it): an empty literal.
            let partial = got.messages("imap BODY.PEEK[]<0.20>")
            #expect(partial.count == 2 && partial[0] == direct.messages("imap BODY.PEEK[]<0.20>")[0] && partial[1].isEmpty,
                    "\(via) partial: \(partial)")
            #expect(got.json["pop3_greeting"] as? String == direct.json["pop3_greeting"] as? String)
            #expect(got.strings("imap_capabilities") == direct.strings("imap_capabilities").filter { !$0.hasPrefix("COMPRESS") })
        }
    }
}

@Suite(.serialized, .enabled(if: getuid() == 0, "Dovecot's static user needs root to start"))
struct GateMailboxTests {
    /// The Gate in front of a real Dovecot on the loopback (no divert: the upstream is given).
    @Test func pop3AndIMAPThroughTheGateAgainstDovecot() async throws {
        let pop3Port = 20110 + Int(getpid() % 500), imapPort = pop3Port + 1000
        let dovecot = try Dovecot(listen: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort, messages: MailboxFixtures.messages)
        defer { dovecot.stop() }
        let direct = try await MailboxClient.fetchOffPool(host: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort)
        #expect(direct.messages("pop3_retr").first == MailboxFixtures.clean, "Dovecot serves the fixture as written")
        let pop3 = try await GateFixtures.gate(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: pop3Port), protocol: .pop3)
        defer { pop3.channels.forEach { $0.close(promise: nil) } }
        let imap = try await GateFixtures.gate(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: imapPort), protocol: .imap)
        defer { imap.channels.forEach { $0.close(promise: nil) } }
        let got = try await MailboxClient.fetchOffPool(host: "127.0.0.1", pop3Port: pop3.port, imapPort: imap.port)
        MailboxFixtures.check(got, direct: direct, via: "Gate")
        #expect(dovecot.process.isRunning, "\(dovecot.log)")

        // A later connection of the same client: the EICAR message is known bad, so a byte range
        // of it (not scanned) comes back empty; the clean message's range is relayed.
        let imapGatePort = imap.port
        let ranges = try await offPool { () -> [String] in
            let client = try LineClient(port: imapGatePort)
            _ = client.readLine()
            client.send("a LOGIN bob secret\r\n")
            while let line = client.readLine(), !line.hasPrefix("a ") {}
            client.send("b SELECT INBOX\r\n")
            while let line = client.readLine(), !line.hasPrefix("b ") {}
            client.send("c FETCH 1:2 (UID BODY.PEEK[]<0.20>)\r\n")
            var lines: [String] = []
            while let line = client.readLine(), !line.hasPrefix("c ") { lines.append(line) }
            client.send("d LOGOUT\r\n")
            return lines
        }
        let text = ranges.joined()
        #expect(text.contains("* 1 FETCH (UID 1 BODY[]<0> {20}\r\nFrom: Alice <alice@e)"), "\(text)")
        #expect(text.contains("* 2 FETCH (UID 2 BODY[]<0> {0}\r\n)"), "\(text)")
    }

    /// A BLOCK rule cannot refuse a message in a mailbox: the clean message (nothing to repack)
    /// becomes a notice, the EICAR one is repacked. With InspectPop3/InspectImap = No the Gate
    /// relays blindly: the EICAR message arrives as it is.
    @Test func blockRuleGivesANoticeAndInspectOffRelaysBlindly() async throws {
        let pop3Port = 21110 + Int(getpid() % 500), imapPort = pop3Port + 1000
        let dovecot = try Dovecot(listen: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort, messages: MailboxFixtures.messages)
        defer { dovecot.stop() }
        let pop3Address = try SocketAddress(ipAddress: "127.0.0.1", port: pop3Port)
        let imapAddress = try SocketAddress(ipAddress: "127.0.0.1", port: imapPort)

        let rule = "RuleSet = protocol in (Pop3, Imap) : BLOCK \"Mailbox access is blocked here\"\n"
        let pop3 = try await GateFixtures.gate(upstream: pop3Address, protocol: .pop3, config: rule)
        defer { pop3.channels.forEach { $0.close(promise: nil) } }
        let imap = try await GateFixtures.gate(upstream: imapAddress, protocol: .imap, config: rule)
        defer { imap.channels.forEach { $0.close(promise: nil) } }
        let blocked = try await MailboxClient.fetchOffPool(host: "127.0.0.1", pop3Port: pop3.port, imapPort: imap.port)
        for key in ["pop3_retr", "imap BODY.PEEK[]", "imap RFC822"] {
            let messages = blocked.messages(key)
            #expect(messages.count == 2, "\(key)")
            guard messages.count == 2 else { continue }
            #expect(messages[0].hasPrefix("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: hello mailbox\r\n"), "\(key): \(messages[0])")
            #expect(messages[0].contains("X-Moat-Blocked: Mailbox access is blocked here"), "\(key): \(messages[0])")
            #expect(!messages[0].contains("Hello Bob"), "\(key): the body is not delivered")
            #expect(!messages[1].contains(Data(GateFixtures.eicar.utf8).base64EncodedString()), "\(key)")
        }

        let off = "InspectPop3 = No\nInspectImap = No\n"
        let blindPOP3 = try await GateFixtures.gate(upstream: pop3Address, protocol: .pop3, config: off)
        defer { blindPOP3.channels.forEach { $0.close(promise: nil) } }
        let blindIMAP = try await GateFixtures.gate(upstream: imapAddress, protocol: .imap, config: off)
        defer { blindIMAP.channels.forEach { $0.close(promise: nil) } }
        let blind = try await MailboxClient.fetchOffPool(host: "127.0.0.1", pop3Port: blindPOP3.port, imapPort: blindIMAP.port)
        #expect(blind.messages("pop3_retr") == [MailboxFixtures.clean, MailboxFixtures.eicar])
        #expect(blind.messages("imap BODY.PEEK[]") == [MailboxFixtures.clean, MailboxFixtures.eicar])
    }

    /// TOP is scanned like RETR with ScanPop3Top = Yes; relayed unscanned (as documented) with No.
    @Test func scanPop3TopDecidesWhetherTOPIsScanned() async throws {
        let pop3Port = 22110 + Int(getpid() % 500), imapPort = pop3Port + 1000
        let dovecot = try Dovecot(listen: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort, messages: MailboxFixtures.messages)
        defer { dovecot.stop() }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: pop3Port)
        let encoded = Data(GateFixtures.eicar.utf8).base64EncodedString()
        for scan in [true, false] {
            let gate = try await GateFixtures.gate(upstream: address, protocol: .pop3, config: "ScanPop3Top = \(scan ? "Yes" : "No")\n")
            defer { gate.channels.forEach { $0.close(promise: nil) } }
            let port = gate.port
            let (status, top) = try await offPool { () -> (String, String) in
                let client = try LineClient(port: port)
                _ = client.readLine()
                client.send("USER bob\r\nPASS secret\r\n")
                _ = client.readLine(); _ = client.readLine()
                client.send("TOP 2 100\r\n")
                let status = client.readLine() ?? ""
                var body = ""
                while let line = client.readLine(), line != ".\r\n" { body += line }
                client.send("QUIT\r\n")
                return (status, body)
            }
            #expect(status.hasPrefix("+OK"), "\(status)")
            // TOP with body lines is scanned whatever ScanPop3Top says (it only adds TOP n 0).
            #expect(!top.contains(encoded) && top.contains("X-Moat-Archive-Id: "), "ScanPop3Top = \(scan): \(top)")
        }
    }

    /// The server cannot be reached: a temporary error in place of the greeting.
    @Test func unreachableServerGivesATemporaryError() async throws {
        // A port below the ephemeral range that nobody listens on: a server's port closed
        // again could be taken by another test's socket, which then answered (CI saw 4.4.2).
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: LoopbackPorts.reserve())
        for (proto, greeting) in [(GateProtocol.pop3, "-ERR [SYS/TEMP] "), (.imap, "* BYE [UNAVAILABLE] ")] {
            let gate = try await GateFixtures.gate(upstream: address, protocol: proto)
            defer { gate.channels.forEach { $0.close(promise: nil) } }
            let client = try LineClient(port: gate.port)
            let line = client.readLine() ?? ""
            #expect(line.hasPrefix(greeting), "\(proto): \(line)")
            #expect(client.readLine() == nil)
        }
    }
}

/// A network namespace made by the test and deleted at the end.
final class TestNamespace {
    let name: String

    init(_ tag: String) throws {
        name = "moatgm-\(tag)-\(getpid())"
        run("/usr/sbin/ip", ["netns", "del", name])
        let result = run("/usr/sbin/ip", ["netns", "add", name])
        guard result.status == 0 else { throw GateTestFailure("ip netns add \(name): \(result.err)") }
        try self.ip("link", "set", "lo", "up")
    }

    deinit { run("/usr/sbin/ip", ["netns", "del", name]) }

    func ip(_ arguments: String...) throws {
        let result = run("/usr/sbin/ip", ["-n", name] + arguments)
        guard result.status == 0 else { throw GateTestFailure("ip -n \(name) \(arguments.joined(separator: " ")): \(result.err)") }
    }

    @discardableResult
    func exec(_ arguments: String...) throws -> String {
        let result = run("/usr/sbin/ip", ["netns", "exec", name] + arguments)
        guard result.status == 0 else { throw GateTestFailure("\(arguments.joined(separator: " ")) in \(name): \(result.err)") }
        return result.out
    }

    static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"),
              FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") else { return false }
        let name = "moatgm-probe-\(getpid())"
        guard run("/usr/sbin/ip", ["netns", "add", name]).status == 0 else { return false }
        run("/usr/sbin/ip", ["netns", "del", name])
        return true
    }()
}

/// The built `moatd`, next to the test bundle.
enum Moatd {
    static let binary: String? = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            let candidate = url.appendingPathComponent("moatd").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()
}

/// End to end: client —veth— gateway —veth— server, three namespaces. The server runs Dovecot
/// on 110 and 143; the gateway runs moatd (its divert on the client side and the Gate); the
/// client reads the mailbox with Python's poplib and imaplib, addressing the server.
@Suite(.serialized, .enabled(if: TestNamespace.available, "needs root and ip/nft for network namespaces"))
struct GateMailboxNamespaceTests {
    @Test func dovecotMailboxThroughTheDivertedGate() async throws {
        try await offPool { try Self.throughTheDivertedGate() }
    }

    static func throughTheDivertedGate() throws {
        let binary = try #require(Moatd.binary, "the built moatd is needed")
        let client = try TestNamespace("c"), gateway = try TestNamespace("g"), server = try TestNamespace("s")
        let peer = "\(getpid() % 10000)"
        let result = run("/usr/sbin/ip", ["link", "add", "gmc\(peer)", "netns", client.name, "type", "veth",
                                         "peer", "name", "gmg\(peer)", "netns", gateway.name])
        guard result.status == 0 else { throw GateTestFailure("veth c-g: \(result.err)") }
        let result2 = run("/usr/sbin/ip", ["link", "add", "gms\(peer)", "netns", server.name, "type", "veth",
                                          "peer", "name", "gmh\(peer)", "netns", gateway.name])
        guard result2.status == 0 else { throw GateTestFailure("veth s-g: \(result2.err)") }
        try client.ip("link", "set", "gmc\(peer)", "name", "eth0")
        try gateway.ip("link", "set", "gmg\(peer)", "name", "eth0")
        try gateway.ip("link", "set", "gmh\(peer)", "name", "eth1")
        try server.ip("link", "set", "gms\(peer)", "name", "eth0")
        for (ns, device, v4) in [(client, "eth0", "10.203.1.2/24"), (gateway, "eth0", "10.203.1.1/24"),
                                 (gateway, "eth1", "10.203.2.1/24"), (server, "eth0", "10.203.2.2/24")] {
            try ns.ip("addr", "add", v4, "dev", device)
            try ns.ip("link", "set", device, "up")
        }
        try client.ip("route", "add", "default", "via", "10.203.1.1")
        try server.ip("route", "add", "default", "via", "10.203.2.1")
        for setting in ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0"] {
            try gateway.exec("sysctl", "-qw", setting)
        }

        let dovecot = try Dovecot(listen: "10.203.2.2", pop3Port: 110, imapPort: 143, messages: MailboxFixtures.messages,
                                  namespace: server.name)
        defer { dovecot.stop() }

        // moatd on the gateway: divert of 110 and 143 arriving on eth0, the Gate behind it.
        let root = GateFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try """
            [Root]
            ControlSocket = \(root)/run/moat-ctl.sock
            VarDir = \(root)/var
            TempDir = \(root)/tmp
            LogLevel = Info
            DefaultLogLevel = Info

            [MailD]
            ReportLanguages = en

            [LinuxFirewall]
            InputDivert = Auto(interface:eth0 protected:110,143)
            """.write(toFile: root + "/moat.ini", atomically: true, encoding: .utf8)
        let moatd = Process()
        moatd.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        moatd.arguments = ["netns", "exec", gateway.name, binary, "--config", root + "/moat.ini"]
        FileManager.default.createFile(atPath: root + "/moatd.log", contents: nil)
        let logHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: root + "/moatd.log"))
        moatd.standardOutput = logHandle
        moatd.standardError = logHandle
        try moatd.run()
        defer {
            if moatd.isRunning { moatd.terminate(); moatd.waitUntilExit() }
        }
        var log: String { (try? String(contentsOfFile: root + "/moatd.log", encoding: .utf8)) ?? "" }
        let deadline = Date().addingTimeInterval(60)
        var ready = false
        while Date() < deadline, moatd.isRunning, !ready {
            let listening = (try? gateway.exec("/usr/bin/ss", "-ltnH")) ?? ""
            ready = log.contains("divert installed") && listening.contains(":20025 ")
            if !ready { usleep(200_000) }
        }
        guard ready else { throw GateTestFailure("moatd did not start the divert and the Gate; log:\n\(log)") }

        let got: MailboxClient.Result
        do {
            got = try MailboxClient.fetch(host: "10.203.2.2", pop3Port: 110, imapPort: 143, namespace: client.name)
        } catch {
            throw GateTestFailure("\(error)\nmoatd log:\n\(log)\nDovecot log:\n\(dovecot.log)")
        }
        MailboxFixtures.check(got, via: "netns Gate")
        // The connections went through the Gate, as POP3 and IMAP sessions.
        // (Info: each checked message is logged with its protocol.)
        #expect(log.contains("protocol=POP3") && log.contains("protocol=IMAP"), "moatd log:\n\(log)")
        // Dovecot saw the gateway, not the client, as its peer (InputDivertConnectTransparently = No).
        #expect(dovecot.log.contains("rip=10.203.2.1"), "\(dovecot.log)")
        withExtendedLifetime((client, gateway, server)) {}
    }
}

struct MailboxVerdictTests {
    @Test func noticeKeepsTheIdentifyingHeadersAndSaysWhy() {
        let original = Array("Received: from x\r\nFrom: Alice <alice@example.com>\r\nTo: Bob\r\n <bob@example.org>\r\nSubject: hi\r\nX-Other: y\r\n\r\nbody EICAR\r\n".utf8)
        let notice = String(decoding: MailboxReplacement.notice(for: original, reason: "The message contains a THREAT"), as: UTF8.self)
        #expect(notice.hasPrefix("From: Alice <alice@example.com>\r\nTo: Bob\r\n <bob@example.org>\r\nSubject: hi\r\nX-Moat-Blocked: The message contains a THREAT\r\n"))
        #expect(!notice.contains("Received:") && !notice.contains("X-Other") && !notice.contains("EICAR"))
        #expect(notice.contains("\r\n\r\nThis message was blocked by Moat"))
    }
}

/// A scripted line server: a greeting, then for each line the reply `answer` gives (nil: no
/// answer), closing after it when asked.
final class ScriptedServer: Sendable {
    let channel: any Channel
    var address: SocketAddress { channel.localAddress! }

    init(greeting: String, answer: @escaping @Sendable (String) -> (reply: String, close: Bool)?) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MailLineDecoder()))
                    try channel.pipeline.syncOperations.addHandler(Handler(greeting: greeting, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = MailLine
        let greeting: String
        let answer: @Sendable (String) -> (reply: String, close: Bool)?
        init(greeting: String, answer: @escaping @Sendable (String) -> (reply: String, close: Bool)?) {
            self.greeting = greeting
            self.answer = answer
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(ByteBuffer(string: greeting)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let (reply, close) = answer(unwrapInboundIn(data).text) else { return }
            let channel = context.channel
            context.writeAndFlush(NIOAny(ByteBuffer(string: reply))).whenComplete { _ in
                if close { channel.close(promise: nil) }
            }
        }
    }

    func stop() { channel.close(promise: nil) }
}

@Suite(.serialized) struct ByteRelayConnectionTests {
    /// The server sends a RETR reply and closes at once: the held message is still checked and
    /// delivered (repacked) before the client's connection closes.
    @Test func serverClosingDuringTheCheckStillDeliversTheMessage() async throws {
        let stuffed = String(buffer: DotStuffer.stuffed(Array(GateFixtures.eicarMessage().utf8)))
        let server = try await ScriptedServer(greeting: "+OK ready <1.2@x>\r\n") { line in
            switch line.prefix(4) {
            case "RETR": ("+OK message follows\r\n" + stuffed, true)
            default: ("+OK\r\n", false)
            }
        }
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.address, protocol: .pop3)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let port = gate.port
        try await offPool {
            let client = try LineClient(port: port)
            #expect(client.readLine() == "+OK ready <1.2@x>\r\n", "the APOP timestamp stays")
            client.send("USER bob\r\nPASS secret\r\nRETR 1\r\n")
            #expect(client.readLine() == "+OK\r\n")
            #expect(client.readLine() == "+OK\r\n")
            #expect(client.readLine() == "+OK message follows\r\n")
            var body = ""
            while let line = client.readLine(), line != ".\r\n" { body += line }
            #expect(body.contains("X-Moat-Archive-Id: "), "\(body)")
            #expect(!body.contains(Data(GateFixtures.eicar.utf8).base64EncodedString()))
            #expect(client.readLine() == nil, "then the connection closes")
        }
    }

    /// A server that does not answer a command within the reply timeout is given up on.
    @Test func silentServerIsTimedOut() async throws {
        let server = try await ScriptedServer(greeting: "* OK ready\r\n") { line in
            line.contains("NOOP") ? nil : (line.split(separator: " ").first.map { "\($0) OK done\r\n" } ?? "", false)
        }
        defer { server.stop() }
        var timeouts = GateTimeouts()
        timeouts.tick = .milliseconds(100)
        timeouts.serverReply = .milliseconds(500)
        let gate = try await GateFixtures.gate(upstream: server.address, protocol: .imap, timeouts: timeouts)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let client = try LineClient(port: gate.port)
        #expect(client.readLine() == "* OK ready\r\n")
        client.send("a1 CAPABILITY\r\n")
        #expect(client.readLine() == "a1 OK done\r\n")
        // Silence while nothing is asked is fine.
        try await Task.sleep(for: .milliseconds(800))
        client.send("a2 NOOP\r\n")
        let start = Date()
        #expect(client.readLine() == nil)
        #expect(Date().timeIntervalSince(start) < 10)
    }
}

/// Partial fetches, IDLE and messages over MaxMessageSize through the Gate against a real Dovecot.
@Suite(.serialized, .enabled(if: getuid() == 0, "Dovecot's static user needs root to start"))
struct GateMailboxPartialAndLargeTests {
    /// A clean message with an attachment: its part 2 exists and is harmless.
    static let cleanMultipart = """
        From: Alice <alice@example.com>\r
        To: Bob <bob@example.org>\r
        Subject: the report\r
        MIME-Version: 1.0\r
        Content-Type: multipart/mixed; boundary="b2"\r
        \r
        --b2\r
        Content-Type: text/plain\r
        \r
        The report is attached.\r
        --b2\r
        Content-Type: text/plain; name="report.txt"\r
        Content-Disposition: attachment; filename="report.txt"\r
        Content-Transfer-Encoding: base64\r
        \r
        \(Data("Quarterly numbers: all fine.\r\n".utf8).base64EncodedString())\r
        --b2--\r

        """

    /// Sends `command` under `tag` and returns every line up to and including the tagged one.
    static func exchange(_ client: LineClient, _ tag: String, _ command: String) -> String {
        client.send("\(tag) \(command)\r\n")
        var text = ""
        while let line = client.readLine() {
            text += line
            if line.hasPrefix(tag + " ") { break }
        }
        return text
    }

    static func login(_ port: Int) throws -> LineClient {
        let client = try LineClient(port: port)
        _ = client.readLine()
        _ = exchange(client, "l", "LOGIN bob secret")
        _ = exchange(client, "s", "SELECT INBOX")
        return client
    }

    /// Per-part fetches of messages never fetched whole: the Gate fetches each whole message
    /// itself first (BODY.PEEK[], hidden from the client), checks it, then lets the client's
    /// fetch go on: the EICAR part comes back empty, the clean part byte for byte, \Seen unset.
    @Test func partialFetchOfUncheckedMessagesIsDecidedByAPrivateFetch() async throws {
        let pop3Port = 23110 + Int(getpid() % 500), imapPort = pop3Port + 1000
        let messages = [("1700000011.M1P1.moat", Self.cleanMultipart), ("1700000012.M2P1.moat", MailboxFixtures.eicar)]
        let dovecot = try Dovecot(listen: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort, messages: messages)
        defer { dovecot.stop() }
        let gate = try await GateFixtures.gate(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: imapPort), protocol: .imap)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let gatePort = gate.port
        let commands = ["UID FETCH 1 (UID BODY.PEEK[2])", "FETCH 1 (BODY.PEEK[2] BODY.PEEK[1])", "UID FETCH 1:2 (UID BODY.PEEK[]<0.40>)"]
        let direct = try await offPool { () -> [String] in
            let client = try Self.login(imapPort)
            return commands.enumerated().map { Self.exchange(client, "d\($0.offset)", $0.element) }
        }
        #expect(direct[0].contains("UID 1 BODY[2] {"), "\(direct[0])")
        let (got, flags) = try await offPool { () -> ([String], String) in
            let client = try Self.login(gatePort)
            var got: [String] = []
            // The EICAR message first, by UID and by sequence number (no UID in the reply).
            got.append(Self.exchange(client, "a", "UID FETCH 2 (UID BODY.PEEK[2])"))
            got.append(Self.exchange(client, "b", "FETCH 2 (BODY.PEEK[2] BINARY.PEEK[2])"))
            got.append(Self.exchange(client, "c", "UID FETCH 2 (UID BODY.PEEK[TEXT])"))
            got += commands.enumerated().map { Self.exchange(client, "d\($0.offset)", $0.element) }
            let flags = Self.exchange(client, "f", "FETCH 1:2 (FLAGS)")
            _ = Self.exchange(client, "z", "LOGOUT")
            return (got, flags)
        }
        #expect(got[0] == "* 2 FETCH (UID 2 BODY[2] {0}\r\n)\r\na OK Fetch completed.\r\n" || got[0].hasPrefix("* 2 FETCH (UID 2 BODY[2] {0}\r\n)\r\na OK"), "\(got[0])")
        #expect(got[1].hasPrefix("* 2 FETCH (BODY[2] {0}\r\n BINARY[2] {0}\r\n)\r\nb OK") || got[1].hasPrefix("* 2 FETCH (BODY[2] {0}\r\n BINARY[2] ~{0}\r\n)\r\nb OK"), "\(got[1])")
        #expect(got[2].hasPrefix("* 2 FETCH (UID 2 BODY[TEXT] {0}\r\n)\r\nc OK"), "\(got[2])")
        let eicar = Data(GateFixtures.eicar.utf8).base64EncodedString()
        #expect(!got.joined().contains(eicar) && !got.joined().contains("EICAR-STANDARD"))
        // The clean message's parts and ranges: as Dovecot sent them; the EICAR message's range empty.
        // Dovecot's tagged OK carries its own timings ("(0.001 + 0.000 secs)"), which differ per run.
        func untimed(_ text: String) -> String {
            text.replacingOccurrences(of: #" \([0-9.+ ]+ secs\)"#, with: "", options: .regularExpression)
        }
        #expect(untimed(got[3]) == untimed(direct[0]), "\(got[3])")
        #expect(untimed(got[4]) == untimed(direct[1]), "\(got[4])")
        #expect(got[5].hasPrefix(direct[2].components(separatedBy: "* 2 FETCH")[0]), "\(got[5])\n\(direct[2])")
        #expect(got[5].contains("* 2 FETCH (UID 2 BODY[]<0> {0}\r\n)"), "\(got[5])")
        // The private fetches were BODY.PEEK[]: nothing became \Seen.
        #expect(!flags.contains("\\Seen") && flags.contains("* 2 FETCH (FLAGS ("), "\(flags)")
        #expect(dovecot.process.isRunning, "\(dovecot.log)")
    }

    /// A message over MaxMessageSize (EICAR past the first megabyte) is not scanned:
    /// BlockUnchecked = No relays it as it is; Yes gives a short notice in its place, with the
    /// right literal length (IMAP) and dot-stuffing (POP3).
    @Test func messagesOverMaxMessageSizeFollowBlockUnchecked() async throws {
        let pop3Port = 25110 + Int(getpid() % 500), imapPort = pop3Port + 1000
        let filler = String(repeating: ".dot-started filler line of the big message, to pass one megabyte\r\n", count: 17_000)
        let big = "From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: the big one\r\n"
            + "Message-ID: <big@example.com>\r\n\r\n" + filler + GateFixtures.eicar + "\r\n"
        #expect(big.utf8.count > 1 << 20)
        let dovecot = try Dovecot(listen: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort, messages: [("1700000021.M1P1.moat", big)])
        defer { dovecot.stop() }
        for block in [false, true] {
            let config = "MaxMessageSize = 1mb\nBlockUnchecked = \(block ? "Yes" : "No")\n"
            let pop3 = try await GateFixtures.gate(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: pop3Port), protocol: .pop3, config: config)
            defer { pop3.channels.forEach { $0.close(promise: nil) } }
            let imap = try await GateFixtures.gate(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: imapPort), protocol: .imap, config: config)
            defer { imap.channels.forEach { $0.close(promise: nil) } }
            let (pop3Port, imapGatePort) = (pop3.port, imap.port)
            let (retr, fetched, after) = try await offPool { () -> (String, String, String) in
                let client = try LineClient(port: pop3Port)
                _ = client.readLine()
                client.send("USER bob\r\nPASS secret\r\nRETR 1\r\n")
                _ = client.readLine(); _ = client.readLine()
                var body = ""
                if let status = client.readLine(), status.hasPrefix("+OK") {
                    while let line = client.readLine(), line != ".\r\n" { body += line.hasPrefix(".") ? String(line.dropFirst()) : line }
                }
                client.send("QUIT\r\n")
                // IMAP: read the literal by its announced length; what follows must be the
                // response's end.
                let imapClient = try Self.login(imapGatePort)
                imapClient.send("f FETCH 1 (BODY.PEEK[])\r\n")
                var literal = ""
                var after = ""
                if let head = imapClient.readLine(), let open = head.lastIndex(of: "{"),
                   let length = Int(String(decoding: head.utf8[head.utf8.index(after: open)...].dropLast(3), as: UTF8.self)) {
                    while literal.utf8.count < length, let line = imapClient.readLine() { literal += line }
                    after = imapClient.readLine() ?? ""
                }
                _ = Self.exchange(imapClient, "z", "LOGOUT")
                return (body, literal, after)
            }
            for (name, text) in [("POP3", retr), ("IMAP", fetched)] {
                if block {
                    #expect(text.hasPrefix("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: the big one\r\n"), "\(name): \(text.prefix(300))")
                    #expect(text.contains("X-Moat-Blocked: The message is larger than the gateway can check"), "\(name): \(text.prefix(400))")
                    #expect(text.utf8.count < 4096 && !text.contains("EICAR"), "\(name): a short notice")
                } else {
                    #expect(text == big, "\(name): relayed unscanned, as it is (\(text.utf8.count) bytes)")
                }
            }
            #expect(after == ")\r\n", "the literal length matches: \(after)")
        }
    }

    /// IDLE through the Gate: the client idles longer than the reply timeout without being cut
    /// off, sees a message delivered meanwhile (`* 3 EXISTS`), ends with DONE, and a part of the
    /// new message (EICAR) comes back empty, the whole message repacked.
    @Test func idleOutlastsTheReplyTimeoutAndNewMailIsChecked() async throws {
        let pop3Port = 24110 + Int(getpid() % 500), imapPort = pop3Port + 1000
        let dovecot = try Dovecot(listen: "127.0.0.1", pop3Port: pop3Port, imapPort: imapPort, messages: MailboxFixtures.messages)
        defer { dovecot.stop() }
        var timeouts = GateTimeouts()
        timeouts.tick = .milliseconds(100)
        timeouts.serverReply = .seconds(3)
        let gate = try await GateFixtures.gate(upstream: try SocketAddress(ipAddress: "127.0.0.1", port: imapPort), protocol: .imap,
                                               timeouts: timeouts)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let gatePort = gate.port
        let mailDirectory = dovecot.root + "/mail/bob"
        let result = try await offPool { () -> (idle: String, done: String, part: String, whole: String) in
            let client = try Self.login(gatePort)
            client.send("i IDLE\r\n")
            var idle = client.readLine() ?? ""
            // Longer than the reply timeout: the Gate must not give up on a silent server.
            Thread.sleep(forTimeInterval: 4.5)
            let name = "1700000013.M3P1.moat"
            try Data(MailboxFixtures.eicar.utf8).write(to: URL(fileURLWithPath: mailDirectory + "/tmp/" + name))
            _ = run("/bin/chown", ["dovecot:dovecot", mailDirectory + "/tmp/" + name])
            _ = rename(mailDirectory + "/tmp/" + name, mailDirectory + "/new/" + name)
            while let line = client.readLine() {
                idle += line
                if line.hasPrefix("* 3 EXISTS") { break }
            }
            client.send("DONE\r\n")
            var done = ""
            while let line = client.readLine() {
                done += line
                if line.hasPrefix("i ") { break }
            }
            let part = Self.exchange(client, "p", "UID FETCH 3 (UID BODY.PEEK[2])")
            let whole = Self.exchange(client, "w", "UID FETCH 3 (UID BODY.PEEK[])")
            _ = Self.exchange(client, "z", "LOGOUT")
            return (idle, done, part, whole)
        }
        #expect(result.idle.hasPrefix("+ ") && result.idle.contains("* 3 EXISTS\r\n"), "\(result.idle)\n\(dovecot.log)")
        #expect(result.done.contains("i OK"), "\(result.done)")
        #expect(result.part.hasPrefix("* 3 FETCH (UID 3 BODY[2] {0}\r\n)\r\np OK"), "\(result.part)")
        #expect(result.whole.contains("X-Moat-Archive-Id: ") && !result.whole.contains(Data(GateFixtures.eicar.utf8).base64EncodedString()),
                "\(result.whole)")
    }
}
