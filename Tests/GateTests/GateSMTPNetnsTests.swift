import Foundation
import SystemSetupSupport
import Testing
@testable import Gate
#if canImport(Glibc)
import Glibc
#endif

/// A private Postfix (its own configuration, queue and log) listening on `listen`:25 inside a
/// network namespace. Every accepted message is put in the hold queue
/// (`check_recipient_access static:HOLD`): nothing is delivered, and `postcat` shows a queued
/// message as Postfix received it.
final class PrivatePostfix {
    let root: String
    let namespace: String
    var etc: String { root + "/etc" }
    var log: String { (try? String(contentsOfFile: root + "/postfix.log", encoding: .utf8)) ?? "" }

    /// Whether the log holds `text` within `seconds` (postlogd writes it behind the SMTP
    /// answers it records).
    func waitForLog(containing text: String, seconds: Double = 15) async -> Bool {
        await LogWait.contains(text, inFileAt: root + "/postfix.log", seconds: seconds)
    }

    init(listen: String, networks: String, namespace: String) throws {
        for tool in ["/usr/sbin/postfix", "/usr/sbin/postcat", "/usr/sbin/postconf"] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw GateTestFailure("\(tool) is missing: install postfix")
            }
        }
        self.namespace = namespace
        root = GateFixtures.temporaryDirectory()
        chmod(root, 0o755)
        let fm = FileManager.default
        for dir in ["etc", "queue", "data"] {
            try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        try fm.copyItem(atPath: "/etc/postfix/master.cf", toPath: etc + "/master.cf")
        try """
            compatibility_level = 3.6
            queue_directory = \(root)/queue
            data_directory = \(root)/data
            myhostname = mx.example.org
            mydestination =
            inet_interfaces = \(listen)
            inet_protocols = ipv4
            mynetworks = \(networks) 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject
            smtpd_recipient_restrictions = check_recipient_access static:HOLD, permit_mynetworks, reject
            maillog_file_prefixes = \(root)
            maillog_file = \(root)/postfix.log
            smtpd_peername_lookup = no
            smtp_dns_support_level = disabled

            """.write(toFile: etc + "/main.cf", atomically: true, encoding: .utf8)
        _ = run("/bin/chown", ["postfix", root + "/data"])
        _ = run("/usr/sbin/postconf", ["-c", etc, "-F", "*/*/chroot = n"])
        // `postfix start` reports its errors only on a terminal: `script` gives it one. Signals
        // blocked by the spawning thread are cleared first (see Dovecot).
        let unblock = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, set()); os.execv(sys.argv[1], sys.argv[1:])"
        let start = run("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/bin/env", "python3", "-c", unblock,
                                         "/usr/bin/script", "-qec", "/usr/sbin/postfix -c \(etc) start", "/dev/null"])
        var ready = false
        let deadline = Date().addingTimeInterval(20)
        while start.status == 0, Date() < deadline, !ready {
            let ss = run("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/bin/ss", "-ltnH"]).out
            if ss.contains("\(listen):25 ") { ready = true } else { usleep(100_000) }
        }
        guard ready else {
            let text = "postfix start (\(start.status)): \(start.out)\(start.err)\nlog:\n\(log)"
            stop()
            throw GateTestFailure("Postfix did not start: \(text)")
        }
    }

    /// Names of the files in the queue directories a message goes through.
    func queueFiles() -> Set<String> {
        var files: Set<String> = []
        for queue in ["maildrop", "incoming", "active", "deferred", "hold"] {
            let dir = root + "/queue/" + queue
            guard let items = FileManager.default.enumerator(atPath: dir) else { continue }
            for case let item as String in items {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: dir + "/" + item, isDirectory: &isDirectory), !isDirectory.boolValue {
                    files.insert(queue + "/" + item)
                }
            }
        }
        return files
    }

    /// `postcat` of a queued message: `part` is `-b` (body) or `-h` (header).
    func postcat(_ part: String, id: String) -> (status: Int32, out: String, err: String) {
        run("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/sbin/postcat", "-c", etc, part, "-q", id])
    }

    func stop() {
        _ = run("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/sbin/postfix", "-c", etc, "stop"])
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// End to end for SMTP: client (swaks) —veth— gateway (the real moatd, diverting port 25 that
/// arrives on its eth0 to the Gate) —veth— server (a private Postfix on port 25). The client
/// addresses the server; the Gate is transparent to it.
@Suite(.serialized, .enabled(if: TestNamespace.available, "needs root and ip/nft for network namespaces"))
struct GateSMTPNetnsTests {
    @Test func swaksToPostfixThroughTheDivertedGate() async throws {
        try await offPool { try Self.throughTheDivertedGate() }
    }

    static func swaks(in namespace: String, _ arguments: [String]) -> (status: Int32, out: String, err: String) {
        run("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/bin/swaks", "--timeout", "60"] + arguments)
    }

    static func throughTheDivertedGate() throws {
        let binary = try #require(Moatd.binary, "the built moatd is needed")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/swaks") else {
            throw GateTestFailure("/usr/bin/swaks is missing: install swaks")
        }
        let client = try TestNamespace("sc"), gateway = try TestNamespace("sg"), server = try TestNamespace("ss")
        let peer = "\(getpid() % 10000)"
        let result = run("/usr/sbin/ip", ["link", "add", "smc\(peer)", "netns", client.name, "type", "veth",
                                         "peer", "name", "smg\(peer)", "netns", gateway.name])
        guard result.status == 0 else { throw GateTestFailure("veth c-g: \(result.err)") }
        let result2 = run("/usr/sbin/ip", ["link", "add", "sms\(peer)", "netns", server.name, "type", "veth",
                                          "peer", "name", "smh\(peer)", "netns", gateway.name])
        guard result2.status == 0 else { throw GateTestFailure("veth s-g: \(result2.err)") }
        try client.ip("link", "set", "smc\(peer)", "name", "eth0")
        try gateway.ip("link", "set", "smg\(peer)", "name", "eth0")
        try gateway.ip("link", "set", "smh\(peer)", "name", "eth1")
        try server.ip("link", "set", "sms\(peer)", "name", "eth0")
        for (ns, device, v4) in [(client, "eth0", "10.204.1.2/24"), (gateway, "eth0", "10.204.1.1/24"),
                                 (gateway, "eth1", "10.204.2.1/24"), (server, "eth0", "10.204.2.2/24")] {
            try ns.ip("addr", "add", v4, "dev", device)
            try ns.ip("link", "set", device, "up")
        }
        try client.ip("route", "add", "default", "via", "10.204.1.1")
        try server.ip("route", "add", "default", "via", "10.204.2.1")
        for setting in ["net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0"] {
            try gateway.exec("sysctl", "-qw", setting)
        }

        let postfix = try PrivatePostfix(listen: "10.204.2.2", networks: "10.204.0.0/16", namespace: server.name)
        defer { postfix.stop() }
        // Postfix itself offers CHUNKING (asked from the gateway, not diverted).
        let direct = swaks(in: gateway.name, ["--server", "10.204.2.2", "--port", "25", "--quit-after", "EHLO"])
        #expect(direct.status == 0 && direct.out.contains("CHUNKING"), "Postfix's own EHLO: \(direct.out)\(direct.err)")

        // moatd on the gateway: divert of 25 arriving on eth0, the Gate behind it.
        let root = GateFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try """
            [Root]
            ControlSocket = \(root)/run/moat-ctl.sock
            VarDir = \(root)/var
            TempDir = \(root)/tmp
            LogLevel = Info

            [MailD]
            ReportLanguages = en

            [LinuxFirewall]
            InputDivert = Auto(interface:eth0 protected:25)
            """.write(toFile: root + "/moat.ini", atomically: true, encoding: .utf8)
        let moatd = try GatewayMoatd(binary: binary, namespace: gateway, config: root + "/moat.ini", log: root + "/moatd.log")
        defer { moatd.stop() }
        var log: String { moatd.log }
        var logs: String { "moatd log:\n\(log)\nPostfix log:\n\(postfix.log)" }

        // A clean message: queued by Postfix, its body as sent.
        let clean = GateFixtures.cleanMessage("netns")
        let cleanPath = root + "/clean.eml", eicarPath = root + "/eicar.eml"
        // swaks ends the data with CRLF "." CRLF whatever the file ends with: the file leaves out
        // the message's last CRLF (one Character) so that what swaks sends is the message exactly.
        try String(clean.dropLast()).write(toFile: cleanPath, atomically: true, encoding: .utf8)
        try GateFixtures.eicarMessage().write(toFile: eicarPath, atomically: true, encoding: .utf8)
        let envelope = ["--server", "10.204.2.2", "--port", "25", "--from", "alice@example.com", "--to", "bob@example.org"]
        let sent = swaks(in: client.name, envelope + ["--data", "@" + cleanPath])
        let transcript = sent.out + sent.err
        #expect(sent.status == 0, "swaks: \(transcript)\n\(logs)")
        let received = transcript.split(separator: "\n").filter { $0.hasPrefix("<-") }
        #expect(!received.isEmpty && !received.contains { $0.contains("CHUNKING") }, "EHLO through the Gate: \(transcript)")
        #expect(received.contains { $0.contains("250") && $0.contains("PIPELINING") }, "the EHLO reply is Postfix's: \(transcript)")
        let dataReply = received.last { $0.contains("queued as") }.map(String.init) ?? ""
        let queueID = dataReply.components(separatedBy: "<-  250 2.0.0 Ok: queued as ").last?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        #expect(dataReply.hasPrefix("<-  250 2.0.0 Ok: queued as ") && !queueID.isEmpty
                    && queueID.allSatisfy { $0.isHexDigit }, "final reply: \(dataReply)\n\(transcript)\n\(logs)")
        guard !queueID.isEmpty else { return }
        let queued = postfix.queueFiles()
        #expect(queued == ["hold/\(queueID)"], "Postfix's queue: \(queued)")
        let body = postfix.postcat("-b", id: queueID)
        // postcat -b starts at the empty line ending the header and writes LF line ends.
        let sentBody = String(clean[clean.range(of: "\r\n\r\n")!.upperBound...])
        #expect(body.out == "\n" + sentBody.replacingOccurrences(of: "\r\n", with: "\n"),
                "postcat -b (\(body.status)): \(body.out.debugDescription)\(body.err)")
        let header = postfix.postcat("-h", id: queueID)
        #expect(header.out.contains("Subject: hello netns") && header.out.contains("Message-ID: <clean-netns@example.com>"),
                "postcat -h: \(header.out)\(header.err)")

        // The EICAR message: refused by the Gate with the rule's text, nothing new in Postfix's queue.
        let refused = swaks(in: client.name, envelope + ["--data", "@" + eicarPath])
        #expect(refused.status != 0, "swaks: \(refused.out)\(refused.err)")
        #expect((refused.out + refused.err).contains("<** 550 5.7.1 The message contains a THREAT"),
                "swaks: \(refused.out)\(refused.err)\n\(logs)")
        usleep(500_000)
        #expect(postfix.queueFiles() == queued, "Postfix's queue after the EICAR message: \(postfix.queueFiles())")

        // moatd runs as moat with CAP_NET_ADMIN and CAP_NET_BIND_SERVICE only; a SIGHUP with
        // another port set re-applies the divert, and the Gate still relays diverted mail.
        let status = (try? String(contentsOfFile: "/proc/\(moatd.process.processIdentifier)/status", encoding: .utf8)) ?? ""
        if let moat = getpwnam("moat") {
            let uid = moat.pointee.pw_uid
            #expect(status.contains("\nUid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\n"), "\(status)")
            #expect(status.contains("\nCapEff:\t0000000000001400\n") && status.contains("\nCapPrm:\t0000000000001400\n"), "\(status)")
        }
        let config = try String(contentsOfFile: root + "/moat.ini", encoding: .utf8)
        try config.replacingOccurrences(of: "protected:25)", with: "protected:25,587)")
            .write(toFile: root + "/moat.ini", atomically: true, encoding: .utf8)
        kill(moatd.process.processIdentifier, SIGHUP)
        for _ in 0..<50 where !log.contains("ports=[25, 587]") { usleep(100_000) }
        #expect(log.contains("ports=[25, 587]"), "the divert re-applied after SIGHUP:\n\(log)")
        let listed = (try? gateway.exec("/usr/sbin/nft", "list", "table", "inet", "moat")) ?? ""
        #expect(listed.contains("25, 587"), "\(listed)")
        let again = swaks(in: client.name, envelope + ["--data", "@" + cleanPath])
        #expect(again.status == 0 && again.out.contains("queued as"), "after SIGHUP: \(again.out)\(again.err)\n\(logs)")
        try config.write(toFile: root + "/moat.ini", atomically: true, encoding: .utf8)

        // SIGTERM: moatd stops and removes its nftables table.
        #expect((try? gateway.exec("/usr/sbin/nft", "list", "table", "inet", "moat")) != nil, "the divert table while moatd runs")
        moatd.stop()
        let table = run("/usr/sbin/ip", ["netns", "exec", gateway.name, "/usr/sbin/nft", "list", "table", "inet", "moat"])
        #expect(table.status != 0, "the table is gone after SIGTERM: \(table.out)\n\(log)")

        try killedMidMessage(binary: binary, root: root, client: client, gateway: gateway, postfix: postfix)
        withExtendedLifetime((client, gateway, server)) {}
    }

    /// A client half-way through its message when moatd is killed (kill -9): it never hears
    /// 250, Postfix queues nothing, the divert disappears with moatd (fail-open), and the
    /// client's retry reaches Postfix directly.
    static func killedMidMessage(binary: String, root: String, client: TestNamespace, gateway: TestNamespace,
                                 postfix: PrivatePostfix) throws {
        let moatd = try GatewayMoatd(binary: binary, namespace: gateway, config: root + "/moat.ini", log: root + "/moatd2.log")
        defer { moatd.stop() }
        var log: String { moatd.log }
        let queued = postfix.queueFiles()

        let script = #"""
            import socket, sys
            s = socket.create_connection(("10.204.2.2", 25), timeout=60)
            f = s.makefile("rb")
            def reply():
                lines = []
                while True:
                    line = f.readline()
                    if not line:
                        return b"".join(lines) + b"<EOF>"
                    lines.append(line)
                    if line[3:4] != b"-":
                        return b"".join(lines)
            reply()
            for command in [b"EHLO client.example.com", b"MAIL FROM:<alice@example.com>", b"RCPT TO:<bob@example.org>", b"DATA"]:
                s.sendall(command + b"\r\n")
                print(command.decode(), reply().decode().strip(), flush=True)
            s.sendall(b"Subject: half\r\n\r\nthe first half\r\n")
            print("HALF", flush=True)
            sys.stdin.readline()
            try:
                s.sendall(b"the second half\r\n.\r\n")
                print("FINAL", reply().decode(errors="replace").strip(), flush=True)
            except OSError as error:
                print("FINAL", type(error).__name__, flush=True)
            """#
        try script.write(toFile: root + "/half.py", atomically: true, encoding: .utf8)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        python.arguments = ["netns", "exec", client.name, "/usr/bin/env", "python3", root + "/half.py"]
        let input = Pipe(), output = Pipe()
        python.standardInput = input
        python.standardOutput = output
        python.standardError = output
        try python.run()
        var transcript = ""
        while !transcript.contains("HALF\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            transcript += String(decoding: chunk, as: UTF8.self)
        }
        #expect(transcript.contains("DATA 354"), "the Gate took the message: \(transcript)\n\(log)")
        moatd.kill()
        input.fileHandleForWriting.write(Data("go\n".utf8))
        transcript += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        let final = transcript.split(separator: "\n").first { $0.hasPrefix("FINAL") }.map(String.init) ?? ""
        #expect(!final.isEmpty && !final.contains("250"), "no 250 for a message nobody holds: \(transcript)")
        usleep(500_000)
        #expect(postfix.queueFiles() == queued, "nothing queued from the half message: \(postfix.queueFiles())")
        let table = run("/usr/sbin/ip", ["netns", "exec", gateway.name, "/usr/sbin/nft", "list", "table", "inet", "moat"])
        #expect(table.status != 0, "the divert is gone with the killed moatd (fail-open): \(table.out)")
        // An MTA retries a few times; so does this client (a loaded test machine may still be
        // tearing the killed divert down when the first retry leaves).
        var retry = (status: Int32(-1), out: "", err: "")
        for attempt in 1...3 {
            retry = swaks(in: client.name, ["--server", "10.204.2.2", "--port", "25", "--from", "alice@example.com",
                                            "--to", "bob@example.org", "--body", "the retry \(attempt)"])
            if retry.status == 0 { break }
            sleep(5)
        }
        #expect(retry.status == 0 && retry.out.contains("queued as"), "the retry reaches Postfix: \(retry.out)\(retry.err)")
    }
}
