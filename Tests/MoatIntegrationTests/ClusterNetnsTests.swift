import Foundation
import SystemSetupSupport
import Testing

/// Issue 18's cluster, end to end with real parts: two moatd nodes, each in a network namespace
/// of its own, share one PostgreSQL that they reach over veth links. A real Postfix takes mail
/// through node A's Milter on one listener; on another, without a milter, it is node B's
/// `QuarantineReleaseRelay` and delivers into a Maildir.
///
///     swaks ─▶ Postfix 10.209.1.1:25 ─milter─▶ moatd A (gw-a, 10.209.1.2)  ─┐
///              Postfix 10.209.2.1:25 ◀─release── moatd B (gw-b, 10.209.2.2) ─┴─▶ PostgreSQL 10.209.{1,2}.1
@Suite(.serialized, .offCooperativePool, .enabled(if: ClusterNetwork.available, "needs root and ip for network namespaces"))
struct ClusterNetnsTests {
    static let eicar = Data(#"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#.utf8).base64EncodedString()

    static let message = """
        From: Eve <eve@evil.test>\r
        To: Bob <bob@example.org>\r
        Subject: held on one node, released from the other\r
        Message-ID: <cluster-1@evil.test>\r
        MIME-Version: 1.0\r
        Content-Type: multipart/mixed; boundary="b1"\r
        \r
        --b1\r
        Content-Type: text/plain\r
        \r
        The invoice is attached.\r
        --b1\r
        Content-Type: application/octet-stream; name="eicar.com"\r
        Content-Transfer-Encoding: base64\r
        \r
        \(eicar)\r
        --b1--\r

        """

    @Test func aMessageQuarantinedByNodeAIsReleasedFromNodeBsConsole() throws {
        try Self.releaseFromAnotherNode()
    }

    @Test func aDatabaseOutageLosesNoRowAndDeliversNoHeldMessage() throws {
        try Self.outage()
    }

    static func releaseFromAnotherNode() throws {
        let cluster = try Cluster()
        defer { cluster.remove() }
        let (a, b, nodeA, nodeB, postfix) = (cluster.a, cluster.b, cluster.nodeA, cluster.nodeB, cluster.postfix)

        // Mail through Postfix and node A: the Milter holds it (Postfix discards, swaks sees 250).
        let file = a.root.appendingPathComponent("eicar.eml").path
        try Self.message.write(toFile: file, atomically: true, encoding: .utf8)
        let swaks = try run("/usr/bin/swaks", ["--server", "10.209.1.1:25", "--from", "eve@evil.test", "--to", "bob@example.org",
                                               "--data", file, "--timeout", "60"])
        #expect(swaks.status == 0, "\(swaks.stdout)\(swaks.stderr)\n\(postfix.log)")
        // postlogd writes Postfix's log after the fact: swaks can have its 250 first.
        #expect(postfix.waitForLog(containing: "milter-discard"), "\(postfix.log)")
        #expect(postfix.delivered().isEmpty, "a held message is not delivered")

        // Node B's console lists node A's item, from the shared database.
        let console = Console(sandbox: b, host: "10.209.2.2", port: 4443)
        try console.waitUntilListening(daemon: nodeB)
        try console.logIn()
        var list = ""
        for _ in 0..<100 {
            list = try console.get("/quarantine?message_id=%3Ccluster-1%40evil.test%3E").body
            if list.contains("quarantine/item?id=") { break }
            usleep(100_000)
        }
        let id = try #require(Self.field(after: "/quarantine/item?id=", in: list), "\(list)\n\(nodeA.log)")
        #expect(list.contains("<td>gw-a</td>"), "\(list)")

        // The bytes node A kept, for comparison with what Postfix delivers.
        let kept = try ctl("quarantine", "list", "--json", config: a.config)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(kept.stdout.utf8)) as? [[String: Any]])
        let keptFile = try #require(items.first?["file"] as? String)
        let original = try #require(FileManager.default.contents(atPath: a.root.appendingPathComponent("var/quarantine/\(keptFile)").path))

        // Released from B: B is not the node that kept the file, so the bytes come from the database.
        let item = try console.get("/quarantine/item?id=\(id)")
        #expect(item.body.contains("database"), "B reads the shared copy: \(item.body)")
        let release = try console.post("/quarantine/release", ["csrf=\(try Self.csrf(in: item.body))", "id=\(id)"])
        #expect(release.status == 200, "\(release.body)\n\(nodeB.log)")

        var delivered: [String] = []
        for _ in 0..<200 where delivered.isEmpty {
            delivered = postfix.delivered()
            usleep(100_000)
        }
        let mail = try #require(delivered.first, "nothing delivered; Postfix log:\n\(postfix.log)")
        #expect(mail.contains("X-Moat-Released-By: admin (console, 10.209.2.1) on gw-b at "), "\(mail)")
        // Maildir keeps lines with LF: the message node A kept, byte for byte, follows the headers Postfix and B added.
        let originalText = String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        #expect(mail.hasSuffix(originalText), "delivered:\n\(mail)\nkept:\n\(originalText)")
        #expect(originalText.contains(Self.eicar))

        // The message log, seen from B: both events, each with the node that did it.
        var rows: [String] = []
        for _ in 0..<100 {
            rows = try console.get("/log?message_id=%3Ccluster-1%40evil.test%3E").body.components(separatedBy: "<tr>")
            if rows.contains(where: { $0.contains("<td>released</td>") }) { break }
            usleep(100_000)
        }
        #expect(rows.contains { $0.contains("<td>gw-a</td><td>Milter</td>") && $0.contains("<td>quarantine</td>") }, "\(rows)")
        #expect(rows.contains { $0.contains("<td>gw-b</td>") && $0.contains("<td>released</td>") }, "\(rows)")

        // A second release, now from node A's side, is refused: B has it, and Postfix gets nothing more.
        let again = try ctl("quarantine", "release", id, config: a.config)
        #expect(again.status == 1)
        #expect(again.stderr.contains("released already by admin (console, 10.209.2.1)"), "\(again.stderr)")
        usleep(500_000)
        #expect(postfix.delivered().count == 1)

        cluster.stopNodes()
    }

    /// PostgreSQL crashes (immediate shutdown) while mail flows through node A: every clean
    /// message is delivered, no infected one is, each infected one is kept in A's quarantine
    /// directory; once PostgreSQL is back the rows catch up: one log row per message, one
    /// quarantine row per infected message, none twice.
    static func outage() throws {
        let cluster = try Cluster()
        defer { cluster.remove() }
        let count = 12
        cluster.postgres.crash()
        for n in 0..<count {
            let infected = n % 2 == 0
            let text = Self.message.replacingOccurrences(of: "<cluster-1@evil.test>", with: "<outage-\(n)@evil.test>")
                .replacingOccurrences(of: Self.eicar, with: infected ? Self.eicar : Data("clean bytes \(n)".utf8).base64EncodedString())
            let file = cluster.a.root.appendingPathComponent("m\(n).eml").path
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let swaks = try run("/usr/bin/swaks", ["--server", "10.209.1.1:25", "--from", "eve@evil.test", "--to", "bob@example.org",
                                                   "--data", file, "--timeout", "60"])
            #expect(swaks.status == 0, "message \(n) refused while the database is down: \(swaks.stdout)\n\(cluster.nodeA.log)")
        }
        var delivered: [String] = []
        for _ in 0..<200 where delivered.count < count / 2 {
            delivered = cluster.postfix.delivered()
            usleep(100_000)
        }
        #expect(delivered.count == count / 2, "\(cluster.postfix.log)")
        #expect(!delivered.contains { $0.contains(Self.eicar) }, "a message to be held was delivered")
        // Kept in A's quarantine directory (a folder per day; the message and its metadata) while the rows wait.
        let directory = cluster.a.root.appendingPathComponent("var/quarantine").path
        let kept = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? [])
            .filter { path in
                var isDirectory: ObjCBool = false
                return path.hasSuffix(".eml") && FileManager.default.fileExists(atPath: directory + "/" + path, isDirectory: &isDirectory) && !isDirectory.boolValue
            }
        #expect(kept.count == count / 2, "\(kept)")

        try cluster.postgres.start()
        func rows(_ sql: String) -> Int { Int(cluster.postgres.psql(cluster.databaseName, sql).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        var logged = 0, quarantined = 0
        for _ in 0..<600 {
            logged = rows("SELECT count(*) FROM message_log WHERE message_id LIKE '<outage-%'")
            quarantined = rows("SELECT count(*) FROM quarantine WHERE message_id LIKE '<outage-%'")
            if logged >= count, quarantined >= count / 2 { break }
            usleep(100_000)
        }
        #expect(logged == count, "message log rows after the outage")
        #expect(quarantined == count / 2, "quarantine rows after the outage")
        #expect(rows("SELECT count(DISTINCT message_id) FROM message_log WHERE message_id LIKE '<outage-%'") == count)
        // Node B sees them too: the shared database.
        let list = try ctl("quarantine", "list", "--json", config: cluster.b.config)
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.count == count / 2, "\(list.stdout)\(list.stderr)")
        cluster.stopNodes()
    }

    /// The network, PostgreSQL, Postfix and both nodes, started; `remove` undoes it all.
    final class Cluster {
        let network: ClusterNetwork
        let postgres: PrivatePostgres
        let databaseName: String
        let postfix: ClusterPostfix
        let a: Sandbox, b: Sandbox
        let nodeA: Daemon, nodeB: Daemon

        init() throws {
            network = try ClusterNetwork()
            postgres = try PrivatePostgres(listen: network.hostAddresses, clients: ["10.209.0.0/16"])
            let database = try postgres.createDatabase()
            databaseName = String(database.split(separator: "/").last ?? "")
            postfix = try ClusterPostfix(milter: "10.209.1.2:7357")
            func url(via host: String) -> String {
                database.replacingOccurrences(of: "@127.0.0.1:", with: "@\(host):")
            }
            // A's relay is B's too: A cannot reach it, and a second release must not get that far.
            a = try Sandbox(extra: "MilterSocket = 10.209.1.2:7357\nMilterRuleSet = threat_category : QUARANTINE\nSenderAuthentication = No\n")
            try a.write(try a.read().replacingOccurrences(of: "[Root]\n", with: "[Root]\nNodeName = gw-a\nDatabase = \(url(via: "10.209.1.1"))\nQuarantineReleaseRelay = 10.209.2.1:25\n"))
            b = try Sandbox(extra: "SenderAuthentication = No\n")
            try b.write(try b.read()
                .replacingOccurrences(of: "[Root]\n", with: "[Root]\nNodeName = gw-b\nDatabase = \(url(via: "10.209.2.1"))\nQuarantineReleaseRelay = 10.209.2.1:25\n")
                .replacingOccurrences(of: "AdminListen =\n", with: "AdminListen = 10.209.2.2:4443\n"))
            nodeA = try Daemon(a, namespace: network.namespace("a"))
            nodeB = try Daemon(b, namespace: network.namespace("b"))
            try nodeA.waitUntilAnswering()
            try nodeB.waitUntilAnswering()
        }

        func stopNodes() {
            for daemon in [nodeA, nodeB] {
                daemon.signal(SIGTERM)
                #expect(daemon.waitForExit() == 0, "\(daemon.log)")
            }
        }

        func remove() {
            for daemon in [nodeA, nodeB] where daemon.process.isRunning { daemon.signal(SIGKILL); _ = daemon.waitForExit() }
            postfix.stop()
            postgres.remove()
            a.remove()
            b.remove()
        }
    }

    static func field(after marker: String, in page: String) -> String? {
        guard let start = page.range(of: marker)?.upperBound else { return nil }
        let value = page[start...].prefix { $0 != "\"" && $0 != "&" }
        return value.isEmpty ? nil : String(value)
    }

    static func csrf(in page: String) throws -> String {
        try #require(field(after: "name=\"csrf\" value=\"", in: page))
    }
}

/// Two namespaces, `a` and `b`, each linked to the test's own namespace by a veth pair:
/// 10.209.1.1 (here) — 10.209.1.2 (a), 10.209.2.1 (here) — 10.209.2.2 (b).
final class ClusterNetwork {
    static var available: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
    }

    let tag = "\(getpid() % 100_000)"
    let hostAddresses = ["10.209.1.1", "10.209.2.1"]

    func namespace(_ node: String) -> String { "moatcl-\(node)-\(tag)" }
    func hostLink(_ node: String) -> String { "mcl\(node)\(tag)" }

    init() throws {
        for (index, node) in ["a", "b"].enumerated() {
            let name = namespace(node)
            // `ip netns add` mounts /run/netns the first time: one at a time, machine-wide.
            let added = try SystemSetup.lockedBlocking { () -> (status: Int32, output: String) in
                _ = SystemSetup.run("/usr/sbin/ip", ["netns", "del", name])
                _ = SystemSetup.run("/usr/sbin/ip", ["link", "del", hostLink(node)])
                return SystemSetup.run("/usr/sbin/ip", ["netns", "add", name])
            }
            guard added.status == 0 else { throw SystemSetup.Failure("ip netns add \(name): \(added.output)") }
            let subnet = "10.209.\(index + 1)"
            for command in [["link", "add", hostLink(node), "type", "veth", "peer", "name", "eth0", "netns", name],
                            ["addr", "add", "\(subnet).1/24", "dev", hostLink(node)],
                            ["link", "set", hostLink(node), "up"],
                            ["-n", name, "addr", "add", "\(subnet).2/24", "dev", "eth0"],
                            ["-n", name, "link", "set", "eth0", "up"],
                            ["-n", name, "link", "set", "lo", "up"]] {
                let result = SystemSetup.run("/usr/sbin/ip", command)
                guard result.status == 0 else { throw SystemSetup.Failure("ip \(command.joined(separator: " ")): \(result.output)") }
            }
        }
    }

    deinit {
        for node in ["a", "b"] {
            _ = SystemSetup.run("/usr/sbin/ip", ["link", "del", hostLink(node)])
            _ = SystemSetup.run("/usr/sbin/ip", ["netns", "del", namespace(node)])
        }
    }
}

/// A Postfix of the test's own (configuration, queue, log and Maildir under /tmp) with two
/// listeners on port 25: 10.209.1.1 passes mail to a milter, 10.209.2.1 (the release relay)
/// does not. Mail for example.org is delivered by virtual(8) into one Maildir.
final class ClusterPostfix {
    let root: String
    var etc: String { root + "/etc" }
    var log: String { (try? String(contentsOfFile: root + "/postfix.log", encoding: .utf8)) ?? "" }

    /// Whether the log holds `text` within `seconds` (Postfix's log is written by postlogd,
    /// behind the SMTP answers it records).
    func waitForLog(containing text: String, seconds: Double = 15) -> Bool {
        LogWait.containsBlocking(text, inFileAt: root + "/postfix.log", seconds: seconds)
    }

    init(milter: String) throws {
        root = NSTemporaryDirectory() + "moat-cluster-postfix-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        for dir in ["etc", "queue", "data", "mail"] { try fm.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true) }
        guard let postfix = getpwnam("postfix") else { throw SystemSetup.Failure("no postfix user: install scripts/deps/milter.txt") }
        let uid = postfix.pointee.pw_uid, gid = postfix.pointee.pw_gid
        chown(root + "/data", uid, gid)
        chown(root + "/mail", uid, gid)
        chmod(root, 0o755)
        try fm.copyItem(atPath: "/etc/postfix/master.cf", toPath: etc + "/master.cf")
        try """
            compatibility_level = 3.6
            queue_directory = \(root)/queue
            data_directory = \(root)/data
            mail_owner = postfix
            setgid_group = postdrop
            inet_interfaces = 10.209.1.1, 10.209.2.1
            inet_protocols = ipv4
            myhostname = mx.moat.test
            mydestination =
            relay_domains =
            virtual_mailbox_domains = example.org
            virtual_mailbox_base = \(root)/mail
            virtual_mailbox_maps = static:bob/
            virtual_uid_maps = static:\(uid)
            virtual_gid_maps = static:\(gid)
            mynetworks = 10.209.0.0/16, 127.0.0.0/8
            smtpd_relay_restrictions = permit_mynetworks, reject
            alias_maps =
            alias_database =
            local_recipient_maps =
            smtpd_peername_lookup = no
            smtp_dns_support_level = disabled
            smtputf8_enable = no
            milter_default_action = tempfail
            maillog_file = \(root)/postfix.log
            maillog_file_prefixes = \(root)

            """.write(toFile: etc + "/main.cf", atomically: true, encoding: .utf8)
        for arguments in [["-F", "*/*/chroot = n"], ["-M#", "smtp/inet"],
                          ["-M", "10.209.1.1:25/inet = 10.209.1.1:25 inet n - n - - smtpd -o smtpd_milters=inet:\(milter)"],
                          ["-M", "10.209.2.1:25/inet = 10.209.2.1:25 inet n - n - - smtpd"]] {
            let result = SystemSetup.run("/usr/sbin/postconf", ["-c", etc] + arguments)
            guard result.status == 0 else { throw SystemSetup.Failure("postconf \(arguments): \(result.output)") }
        }
        let started = SystemSetup.run("/usr/sbin/postfix", ["-c", etc, "start"])
        guard started.status == 0 else { throw SystemSetup.Failure("postfix start: \(started.output)") }
        let deadline = Date().addingTimeInterval(20)
        while !(SystemSetup.run("/usr/bin/ss", ["-ltnH"]).output.contains("10.209.2.1:25 ")) {
            guard Date() < deadline else { throw SystemSetup.Failure("Postfix did not listen; log:\n\(log)") }
            usleep(100_000)
        }
    }

    /// The messages in the Maildir, as delivered.
    func delivered() -> [String] {
        let dir = root + "/mail/bob/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
    }

    func stop() {
        _ = SystemSetup.run("/usr/sbin/postfix", ["-c", etc, "stop"])
        try? FileManager.default.removeItem(atPath: root)
    }
}
