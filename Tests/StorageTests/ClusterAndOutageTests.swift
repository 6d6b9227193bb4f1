import Foundation
import Storage
import SystemSetupSupport
import Testing

/// Several nodes on one PostgreSQL, and a PostgreSQL that dies under the writer.
@Suite(.serialized)
struct ClusterAndOutageTests {
    @Test func twoNodesStartingTogetherMigrateOnceAndSeeEachOthersRows() async throws {
        let server = try await PrivatePostgres.shared()
        let url = try server.createDatabase()
        async let openA = GatewayStores.open(database: url, sqlitePath: nil, logger: Backend.logger)
        async let openB = GatewayStores.open(database: url, sqlitePath: nil, logger: Backend.logger)
        let (a, b): (any GatewayStore, any GatewayStore)
        do {
            (a, b) = try await (openA, openB)
        } catch {
            // CI saw this time out once in a full parallel run; what the server logged says why.
            Issue.record("\(error); PostgreSQL's log:\n\(server.logTail())")
            return
        }
        #expect(try await a.schemaMigrations() == ["gateway-v1"])
        try await a.insertLog([.sample(node: "node-a", recipients: ["bob@example.org"])])
        try await b.insertLog([.sample(node: "node-b", recipients: ["bob@example.org"])])
        let record = QuarantineRecord(node: "node-a", interface: "Milter", recipients: ["bob@example.org"], size: 3,
                                      verdict: "discard+quarantine", file: "x.eml")
        try await a.insertQuarantine([record])
        try await a.putContent(id: record.id, bytes: [1, 2, 3])
        #expect(Set(try await b.searchLog(LogQuery(recipient: "bob@example.org")).map(\.node)) == ["node-a", "node-b"])
        #expect(try await b.quarantined(id: record.id)?.node == "node-a")
        #expect(try await b.content(id: record.id) == [1, 2, 3])
        // A release claimed on B is seen as taken on A.
        #expect(try await b.claimRelease(id: record.id, by: "admin on node-b", at: Date()))
        #expect(try await !a.claimRelease(id: record.id, by: "admin on node-a", at: Date()))
        await a.close()
        await b.close()
    }

    @Test func sqliteWriterBatchesInTheBackground() async throws {
        let directory = NSTemporaryDirectory() + "moat-writer-\(UUID().uuidString)"
        let store = try await GatewayStores.open(database: "", sqlitePath: directory + "/moat.sqlite", logger: Backend.logger)
        let writer = StorageWriter(store: store, bufferPath: directory + "/storage-buffer.jsonl", batchSize: 50)
        let task = Task { await writer.run() }
        for i in 0..<260 { writer.enqueue(.log(.sample(recipients: ["r\(i % 7)@example.org"]))) }
        await writer.flush()
        #expect(try await store.searchLog(LogQuery(limit: 1000)).count == 260)
        #expect(try await store.searchLog(LogQuery(recipient: "r3@example.org", limit: 1000)).count == 37)
        let counters = writer.counters
        #expect(counters.written == 260 && counters.buffered == 0 && counters.dropped == 0 && counters.queued == 0)
        task.cancel()
        await task.value
        await store.close()
    }

    @Test func aFullMemoryQueueDropsLogRowsAndCountsThem() async throws {
        let directory = NSTemporaryDirectory() + "moat-writer-\(UUID().uuidString)"
        let store = try await GatewayStores.open(database: "", sqlitePath: directory + "/moat.sqlite", logger: Backend.logger)
        // No run(): nothing drains, the queue fills.
        let writer = StorageWriter(store: store, bufferPath: directory + "/buffer.jsonl", maxQueued: 10)
        for _ in 0..<15 { writer.enqueue(.log(.sample())) }
        writer.enqueue(.quarantine(QuarantineRecord(node: "a", interface: "Milter", size: 1, verdict: "discard", file: "f"), contentPath: nil))
        #expect(writer.counters.queued == 11)
        #expect(writer.counters.dropped == 5)
        await store.close()
    }

    /// PostgreSQL killed mid-run: the writer goes on into its buffer file, catches up after
    /// the restart, and every row arrives exactly once.
    @Test func postgresKilledMidRunLosesNothing() async throws {
        let server = try await PrivatePostgres.started()
        defer { server.remove() }
        let url = try server.createDatabase("moat")
        let directory = NSTemporaryDirectory() + "moat-outage-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try await GatewayStores.open(database: url, sqlitePath: nil, logger: Backend.logger)
        let writer = StorageWriter(store: store, bufferPath: directory + "/storage-buffer.jsonl", batchSize: 20,
                                   retryInterval: .milliseconds(300))
        let task = Task { await writer.run() }
        let quarantineFile = directory + "/q.eml"
        try Data("Subject: kept\r\n\r\nbody\r\n".utf8).write(to: URL(fileURLWithPath: quarantineFile))

        for i in 0..<100 { writer.enqueue(.log(.sample(node: "a", messageId: "<before-\(i)@x>"))) }
        await writer.flush()
        #expect(writer.counters.written == 100)

        try await Self.blocking { server.crash() }
        let record = QuarantineRecord(node: "a", interface: "Milter", size: 24, verdict: "discard+quarantine", file: "q.eml")
        for i in 0..<150 { writer.enqueue(.log(.sample(node: "a", messageId: "<during-\(i)@x>"))) }
        writer.enqueue(.quarantine(record, contentPath: quarantineFile))
        await writer.flush()
        await writer.flush()
        var counters = writer.counters
        #expect(!counters.databaseUp)
        #expect(counters.buffered == 151)
        #expect(counters.bufferBytes > 0)
        #expect(counters.dropped == 0)
        #expect(FileManager.default.fileExists(atPath: directory + "/storage-buffer.jsonl"))

        try await Self.blocking { try server.start() }
        for i in 0..<50 { writer.enqueue(.log(.sample(node: "a", messageId: "<after-\(i)@x>"))) }
        // Retries come every 300 ms; give the pool time to reconnect.
        let deadline = Date().addingTimeInterval(60)
        repeat {
            await writer.flush()
            counters = writer.counters
        } while (!counters.databaseUp || counters.queued > 0 || counters.bufferBytes > 0) && Date() < deadline
        #expect(counters.databaseUp)
        // What waited in the buffer (the outage's writes, and those enqueued before the
        // writer noticed the restart) was replayed, all of it.
        #expect(counters.replayed >= 151)
        #expect(counters.replayed == counters.buffered)
        #expect(counters.dropped == 0)
        #expect(counters.failures >= 1)
        #expect(!FileManager.default.fileExists(atPath: directory + "/storage-buffer.jsonl"))
        let count = server.psql("moat", "SELECT COUNT(*), COUNT(DISTINCT message_id) FROM message_log")
        let groups = server.psql("moat", "SELECT split_part(message_id, '-', 1), COUNT(*) FROM message_log GROUP BY 1 ORDER BY 1").output
        #expect(count.output.trimmingCharacters(in: .whitespacesAndNewlines) == "300|300", "\(groups) \(writer.counters)")
        #expect(try await store.quarantined(id: record.id)?.verdict == "discard+quarantine")
        #expect(try await store.content(id: record.id) == Array("Subject: kept\r\n\r\nbody\r\n".utf8))
        task.cancel()
        await task.value
        await store.close()
    }

    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
