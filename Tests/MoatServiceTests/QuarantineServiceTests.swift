import Foundation
import Logging
import MailD
import Policy
import Storage
import SystemSetupSupport
import Testing
import ThreatEngine
@testable import MoatService

/// The quarantine end to end below the sockets: MailCore keeps the message, the writer puts
/// its row in the database, a service (on the same or another node) lists, shows, releases
/// to a real SMTP server and deletes, and the message log shows every event with its node.
@Suite(.serialized)
struct QuarantineServiceTests {
    static let scanner: ThreatScanner = {
        try! ThreatScanner(signatureDirectory: "/nonexistent-moat-test-signatures", limits: ScanLimits(scanTimeout: .seconds(900)))
    }()

    static let eicar = Array(#"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#.utf8)

    static func message(_ id: String) -> [UInt8] {
        Array("""
            From: Eve <eve@evil.test>\r
            To: Bob <bob@example.org>\r
            Subject: invoice <b>now</b>\r
            Message-ID: <\(id)@evil.test>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="b1"\r
            \r
            --b1\r
            Content-Type: text/plain\r
            \r
            Please open.\r
            .a line that starts with a dot\r
            --b1\r
            Content-Type: application/octet-stream; name="eicar.com"\r
            Content-Disposition: attachment; filename="eicar.com"\r
            \r
            \(String(decoding: eicar, as: UTF8.self))\r
            --b1--\r

            """.utf8)
    }

    struct Node {
        let storage: GatewayStorage
        let core: MailCore
        let task: Task<Void, Never>

        func decide(_ bytes: [UInt8], rules: [String] = ["threat_category : QUARANTINE"]) async -> Decision {
            let profile = CheckProfile(name: "Milter", limits: ScanLimits(scanTimeout: .seconds(900)), rules: rules)
            let envelope = Envelope(source: .milter, sender: "eve@evil.test", recipients: ["bob@example.org", "carol@example.org"],
                                    clientAddress: "198.51.100.7")
            return await core.decide(envelope: envelope, message: .bytes(bytes), profile: profile)
        }

        func stop() async {
            await storage.writer.flush()
            task.cancel()
            await task.value
            await storage.store.close()
        }
    }

    static func node(_ name: String, database: String, relayPort: Int?, varDir: String? = nil) async throws -> Node {
        let varDir = try varDir ?? temporaryDirectory()
        let store = try GatewayStores.make(database: database, sqlitePath: varDir + "/moat.sqlite", logger: Logger(label: "test"))
        let settings = GatewayStorage.Settings(releaseRelay: relayPort.map { ("127.0.0.1", $0) })
        let storage = GatewayStorage(store: store, varDir: varDir, node: name, logger: Logger(label: name), settings: settings)
        let core = MailCore(scanner: scanner, spoolDirectory: varDir + "/spool", recorder: storage.records)
        let writer = storage.writer
        return Node(storage: storage, core: core, task: Task { await writer.run() })
    }

    /// Two nodes on one PostgreSQL: A quarantines, B lists, shows, releases to a real SMTP
    /// server; the message log has both events with their nodes.
    @Test func aMessageQuarantinedOnOneNodeIsReleasedFromAnother() async throws {
        let url = try await PrivatePostgres.shared().createDatabase()
        let sink = try SMTPSink()
        defer { sink.stop() }
        let a = try await Self.node("node-a", database: url, relayPort: sink.port)
        let b = try await Self.node("node-b", database: url, relayPort: sink.port)
        let original = Self.message("cluster-1")
        let decision = await a.decide(original)
        #expect(decision.action == .discard)
        let id = try #require(decision.quarantine?.id)
        await a.storage.writer.flush()

        let listed = try await b.storage.quarantine.list(QuarantineQuery(recipient: "bob@example.org"))
        #expect(listed.map(\.id) == [id])
        #expect(listed.first?.node == "node-a")
        let detail = try await b.storage.quarantine.show(id: id)
        #expect(detail.source == "database")
        #expect(detail.headers.contains { $0.name == "Subject" && $0.value == "invoice <b>now</b>" })
        #expect(detail.parts.contains { $0.filename == "eicar.com" })
        #expect(try await b.storage.quarantine.bytes(id: id) == original)

        let outcome = try await b.storage.quarantine.release(id: id, by: "admin-b")
        #expect(outcome.accepted == ["bob@example.org", "carol@example.org"])
        let received = try #require(sink.messages().first)
        #expect(received.contains("X-Mail-Args: <eve@evil.test>"))
        #expect(received.contains("X-Rcpt-Args: <bob@example.org>"))
        #expect(received.contains("X-Rcpt-Args: <carol@example.org>"))
        // The added header, then the original message line for line (smtp-sink writes LF
        // line ends; the line that starts with a dot went stuffed and arrived as it was).
        let header = try #require(received.range(of: "X-Moat-Released-By: admin-b on node-b at "))
        let expected = String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let afterHeader = received[header.lowerBound...].drop { $0 != "\n" }.dropFirst()
        #expect(afterHeader.hasPrefix(expected))

        // A second release, from either node, is refused and says who released it.
        await #expect(throws: QuarantineService.Failure.self) { try await a.storage.quarantine.release(id: id, by: "admin-a") }
        #expect(sink.messages().count == 1)
        await b.storage.writer.flush()
        let events = try await a.storage.searchLog(LogQuery(messageId: "<cluster-1@evil.test>"))
        #expect(events.map(\.verdict) == ["released", "quarantine"])
        #expect(events.map(\.node) == ["node-b", "node-a"])
        #expect(events.first?.reason.contains("released by admin-b") == true)
        #expect(try await b.storage.store.quarantined(id: id)?.releasedBy == "admin-b")
        await a.stop()
        await b.stop()
    }

    @Test(arguments: ["sqlite", "postgresql"])
    func aFailedReleaseCanBeRetriedAndDeleteRemovesTheFiles(_ backend: String) async throws {
        let database = backend == "sqlite" ? "" : try await PrivatePostgres.shared().createDatabase()
        let deadPort = try PrivatePostgres.freePort()  // nothing listens there
        let node = try await Self.node("solo", database: database, relayPort: deadPort)
        let decision = await node.decide(Self.message("retry-1"), rules: ["threat_category : QUARANTINE, REJECT"])
        #expect(decision.action == .reject(nil))
        let id = try #require(decision.quarantine?.id)
        await node.storage.writer.flush()
        await #expect(throws: QuarantineService.Failure.self) { try await node.storage.quarantine.release(id: id, by: "admin") }
        #expect(try await node.storage.store.quarantined(id: id)?.releasedAt == nil)

        let detail = try await node.storage.quarantine.show(id: id)
        #expect(detail.source == "file")
        let file = node.storage.records.files.path(detail.record.file)
        #expect(FileManager.default.fileExists(atPath: file))
        try await node.storage.quarantine.delete(id: id, by: "admin")
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try await node.storage.store.quarantined(id: id) == nil)
        await node.storage.writer.flush()
        #expect(try await node.storage.searchLog(LogQuery(verdict: "deleted")).count == 1)
        await node.stop()
    }

    @Test func retentionRemovesExpiredItemsAndTheirFiles() async throws {
        let node = try await Self.node("solo", database: "", relayPort: nil)
        let decision = await node.decide(Self.message("old-1"))
        let id = try #require(decision.quarantine?.id)
        await node.storage.writer.flush()
        let file = node.storage.records.files.path(try #require(try await node.storage.store.quarantined(id: id)).file)
        // Nothing is old yet; 31 days later (retention 30 days) it is.
        #expect(try await node.storage.expire().quarantineRows == 0)
        let later = try await node.storage.expire(now: Date().addingTimeInterval(31 * 86400))
        #expect(later.quarantineRows == 1)
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try await node.storage.store.quarantined(id: id) == nil)
        #expect(try await node.storage.searchLog(LogQuery()).count == 1)  // the log keeps 90 days
        await node.stop()
    }
}
