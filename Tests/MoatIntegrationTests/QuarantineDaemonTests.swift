import Foundation
import Testing

/// The real moatd with its SQLite store: a spamd request whose EICAR a QUARANTINE rule holds,
/// then `moat-ctl quarantine` and `moat-ctl log search` over the control socket.
@Suite(.serialized, .offCooperativePool) struct QuarantineDaemonTests {
    static let eicar = Data(#"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#.utf8).base64EncodedString()

    @Test func aHeldMessageIsListedShownLoggedAndDeleted() throws {
        let port = freeLoopbackPort()
        let sandbox = try Sandbox(extra: "SpamdSocket = 127.0.0.1:\(port)\nSpamdRuleSet = threat_category : QUARANTINE\n")
        defer { sandbox.remove() }
        try sandbox.write(try sandbox.read().replacingOccurrences(of: "[Root]\n", with: "[Root]\nNodeName = gw-test-1\n"))
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()

        let message = """
            From: Eve <eve@evil.test>\r
            To: Bob <bob@example.org>\r
            Subject: held\r
            Message-ID: <held-1@evil.test>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: application/octet-stream; name="eicar.com"\r
            Content-Transfer-Encoding: base64\r
            \r
            \(Self.eicar)\r
            --b1--\r

            """
        let request = "CHECK SPAMC/1.5\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message
        let reply = String(decoding: tcpExchange(port: port, Array(request.utf8)), as: UTF8.self)
        #expect(reply.hasPrefix("SPAMD/1.1 0 EX_OK"), "\(reply)")

        // The row reaches the database within the writer's interval.
        var listed = try ctl("quarantine", "list", "--json", config: sandbox.config)
        for _ in 0..<50 where !listed.stdout.contains("held-1@evil.test") {
            usleep(100_000)
            listed = try ctl("quarantine", "list", "--json", config: sandbox.config)
        }
        #expect(listed.status == 0, "\(listed.stderr)")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(items.count == 1)
        let id = try #require(items.first?["id"] as? String)
        #expect(items.first?["node"] as? String == "gw-test-1")
        #expect(items.first?["verdict"] as? String == "quarantine")

        // The kept file: moatd's user's, 0600, the bytes as sent.
        let file = try #require(items.first?["file"] as? String)
        let path = sandbox.root.appendingPathComponent("var/quarantine/\(file)").path
        let info = try FileManager.default.attributesOfItem(atPath: path)
        #expect(info[.posixPermissions] as? Int == 0o600)
        #expect(info[.ownerAccountName] as? String == "moat")
        #expect(FileManager.default.contents(atPath: path) == Data(message.utf8))

        let shown = try ctl("quarantine", "show", id, config: sandbox.config)
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("from: eve@evil.test") || shown.stdout.contains("from: <>"), "\(shown.stdout)")
        #expect(shown.stdout.contains("  Subject: held"))
        #expect(shown.stdout.contains("eicar.com"))

        let logged = try ctl("log", "search", "--verdict", "quarantine", config: sandbox.config)
        #expect(logged.status == 0)
        #expect(logged.stdout.contains("gw-test-1  Spamd  quarantine"), "\(logged.stdout)")
        #expect(logged.stdout.contains("quarantine=\(id)"))

        // No relay configured: the release is refused and says why.
        let release = try ctl("quarantine", "release", id, config: sandbox.config)
        #expect(release.status == 1)
        #expect(release.stderr.contains("QuarantineReleaseRelay is empty"))

        let deleted = try ctl("quarantine", "delete", id, config: sandbox.config)
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try ctl("quarantine", "show", id, config: sandbox.config).status == 1)

        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }

    /// `Database = Off`: no database file, no message log; a QUARANTINE rule cannot hold, so
    /// the message is refused for now (never passed) and moatd said so at start.
    @Test func databaseOffKeepsNothingAndAQuarantineRuleTempfails() throws {
        let port = freeLoopbackPort()
        let sandbox = try Sandbox(extra: "SpamdSocket = 127.0.0.1:\(port)\nSpamdRuleSet = threat_category : QUARANTINE\n")
        defer { sandbox.remove() }
        try sandbox.write(try sandbox.read().replacingOccurrences(of: "[Root]\n", with: "[Root]\nDatabase = Off\n"))
        let daemon = try Daemon(sandbox)
        try daemon.waitUntilAnswering()
        #expect(daemon.log.contains("Database = Off: no quarantine, so messages the QUARANTINE rules of MailD.SpamdRuleSet hold are answered tempfail"), "\(daemon.log)")

        let message = "Subject: held\r\n\r\n" + String(decoding: Data(base64Encoded: Self.eicar)!, as: UTF8.self) + "\r\n"
        let request = "CHECK SPAMC/1.5\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message
        let reply = String(decoding: tcpExchange(port: port, Array(request.utf8)), as: UTF8.self)
        #expect(reply.hasPrefix("SPAMD/1.0 75 EX_TEMPFAIL"), "\(reply)")

        let listed = try ctl("quarantine", "list", config: sandbox.config)
        #expect(listed.status == 1)
        #expect(listed.stderr.contains("this daemon keeps no quarantine or message log"), "\(listed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.root.appendingPathComponent("var/moat.sqlite").path))
        daemon.signal(SIGTERM)
        #expect(daemon.waitForExit() == 0)
    }
}
