import Foundation
import Storage
import Testing

/// One suite, both backends: the same calls must give the same answers on SQLite and on a
/// real PostgreSQL.
@Suite(.serialized)
struct GatewayStoreTests {
    @Test(arguments: Backend.allCases)
    func migrationsRunOnceAndAreVersioned(_ backend: Backend) async throws {
        let (store, database) = try await backend.open()
        #expect(try await store.schemaMigrations() == ["gateway-v1"])
        #expect(store.backendName == backend.rawValue)
        try await store.insertLog([.sample()])
        await store.close()
        // Opening again migrates nothing and keeps the rows.
        let again = try await backend.reopen(database)
        #expect(try await again.schemaMigrations() == ["gateway-v1"])
        #expect(try await again.searchLog(LogQuery()).count == 1)
        await again.close()
    }

    @Test(arguments: Backend.allCases)
    func messageLogSearches(_ backend: Backend) async throws {
        let (store, _) = try await backend.open()
        defer { Task { await store.close() } }
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let entries = [
            MessageLogEntry.sample(recipients: ["Bob@Example.org", "carol@example.org"], verdict: "pass", time: t0, messageId: "<m1@x>"),
            MessageLogEntry.sample(recipients: ["bob@example.org"], sender: "eve@evil.test", verdict: "reject", time: t0 + 60, messageId: "<m2@x>"),
            MessageLogEntry.sample(node: "b", recipients: ["dave@example.org"], verdict: "discard+quarantine", time: t0 + 120, messageId: "<m3@x>"),
        ]
        #expect(try await store.insertLog(entries) == 3)
        let bob = try await store.searchLog(LogQuery(recipient: "BOB@example.org"))
        #expect(bob.map(\.messageId) == ["<m2@x>", "<m1@x>"])  // newest first, case-insensitive
        #expect(bob.last?.recipients == ["Bob@Example.org", "carol@example.org"])
        #expect(bob.last?.subject == "Hello <script>")
        #expect(bob.first?.threats == ["Eicar-Test-Signature"])
        #expect(bob.first?.spamScore == 1.5)
        #expect(bob.first?.spamSymbols == ["MIME_HTML_ONLY"])
        #expect(try await store.searchLog(LogQuery(sender: "alice@example.com")).count == 2)
        #expect(try await store.searchLog(LogQuery(messageId: "<m3@x>")).map(\.node) == ["b"])
        #expect(try await store.searchLog(LogQuery(verdict: "reject")).map(\.messageId) == ["<m2@x>"])
        #expect(try await store.searchLog(LogQuery(node: "b")).count == 1)
        #expect(try await store.searchLog(LogQuery(since: t0 + 30, until: t0 + 90)).map(\.messageId) == ["<m2@x>"])
        #expect(try await store.searchLog(LogQuery(recipient: "bob@example.org", since: t0 + 30)).map(\.messageId) == ["<m2@x>"])
        #expect(try await store.searchLog(LogQuery(limit: 2)).count == 2)
        #expect(try await store.searchLog(LogQuery(recipient: "nobody@example.org")).isEmpty)
        // Times survive to the millisecond.
        #expect(bob.last?.time == t0)
    }

    @Test(arguments: Backend.allCases)
    func insertingTwiceCountsOnceInLogAndStatistics(_ backend: Backend) async throws {
        let (store, _) = try await backend.open()
        defer { Task { await store.close() } }
        let hour = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: 3600))
        let batch = [MessageLogEntry.sample(time: hour + 10), .sample(time: hour + 20),
                     .sample(verdict: "reject", time: hour + 30), .sample(node: "b", time: hour + 40),
                     .sample(time: hour + 3600 + 5, interface: "Spamd")]
        #expect(try await store.insertLog(batch) == 5)
        #expect(try await store.insertLog(batch) == 0)
        #expect(try await store.searchLog(LogQuery()).count == 5)
        let counts = try await store.hourlyCounts(since: hour, until: hour + 7200, node: nil)
        #expect(counts == [
            HourlyCount(hour: hour, interface: "Milter", verdict: "pass", messages: 3),
            HourlyCount(hour: hour, interface: "Milter", verdict: "reject", messages: 1),
            HourlyCount(hour: hour + 3600, interface: "Spamd", verdict: "pass", messages: 1),
        ])
        #expect(try await store.hourlyCounts(since: hour, until: hour + 3600, node: "b")
                == [HourlyCount(hour: hour, interface: "Milter", verdict: "pass", messages: 1)])
    }

    @Test(arguments: Backend.allCases)
    func quarantineRowsClaimsAndContent(_ backend: Backend) async throws {
        let (store, _) = try await backend.open()
        defer { Task { await store.close() } }
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let message = QuarantineRecord(time: t0, node: "a", interface: "Milter", sender: "eve@evil.test",
                                       recipients: ["Bob@example.org", "x_y%z@example.org"], messageId: "<q1@x>",
                                       subject: "Invoice", size: 68, verdict: "reject+quarantine",
                                       threats: ["Eicar-Test-Signature"], reason: "rule 1", file: "2027/q1.eml")
        let archive = QuarantineRecord(time: t0 + 1, node: "a", kind: .archive, interface: "Milter",
                                       recipients: ["bob@example.org"], size: 300, verdict: "repack", file: "2027/a1.zip",
                                       messageRef: message.id)
        try await store.insertQuarantine([message, archive])
        try await store.insertQuarantine([message])  // again: nothing changes
        #expect(try await store.quarantined(id: message.id) == message)
        #expect(try await store.listQuarantine(QuarantineQuery()).map(\.id) == [archive.id, message.id])
        #expect(try await store.listQuarantine(QuarantineQuery(recipient: "bob@EXAMPLE.org")).count == 2)
        #expect(try await store.listQuarantine(QuarantineQuery(recipient: "x_y%z@example.org")).map(\.id) == [message.id])
        #expect(try await store.listQuarantine(QuarantineQuery(recipient: "xayzz@example.org")).isEmpty)
        #expect(try await store.listQuarantine(QuarantineQuery(kind: .archive)).map(\.id) == [archive.id])
        #expect(try await store.listQuarantine(QuarantineQuery(sender: "EVE@evil.test")).map(\.id) == [message.id])

        #expect(try await store.claimRelease(id: message.id, by: "admin1", at: t0 + 5))
        #expect(try await !store.claimRelease(id: message.id, by: "admin2", at: t0 + 6))
        #expect(try await store.quarantined(id: message.id)?.releasedBy == "admin1")
        try await store.unclaimRelease(id: message.id, by: "admin1")
        #expect(try await store.quarantined(id: message.id)?.releasedAt == nil)
        #expect(try await !store.claimRelease(id: "unknown", by: "admin1", at: t0))

        let bytes: [UInt8] = Array("Subject: x\r\n\r\n\u{0}\u{ff}binary".utf8) + [0, 255, 13, 10]
        try await store.putContent(id: message.id, bytes: bytes)
        #expect(try await store.content(id: message.id) == bytes)
        #expect(try await store.content(id: archive.id) == nil)
        #expect(try await store.deleteQuarantined(id: message.id))
        #expect(try await !store.deleteQuarantined(id: message.id))
        #expect(try await store.content(id: message.id) == nil)
    }

    @Test(arguments: Backend.allCases)
    func retentionRemovesOldRowsAndOnlyThisNodesQuarantine(_ backend: Backend) async throws {
        let (store, _) = try await backend.open()
        defer { Task { await store.close() } }
        let now = Date()
        try await store.insertLog([.sample(time: now - 86400 * 40), .sample(time: now - 60)])
        let old = QuarantineRecord(time: now - 86400 * 40, node: "a", interface: "Milter", size: 1, verdict: "discard", file: "old.eml")
        let otherNode = QuarantineRecord(time: now - 86400 * 40, node: "b", interface: "Milter", size: 1, verdict: "discard", file: "b.eml")
        let fresh = QuarantineRecord(time: now, node: "a", interface: "Milter", size: 1, verdict: "discard", file: "new.eml")
        try await store.insertQuarantine([old, otherNode, fresh])
        let result = try await store.expire(logBefore: now - 86400 * 30, quarantineBefore: now - 86400 * 30, node: "a")
        #expect(result == ExpiryResult(logRows: 1, quarantineRows: 1, files: ["old.eml"]))
        #expect(try await store.searchLog(LogQuery()).count == 1)
        #expect(try await store.searchLog(LogQuery(recipient: "bob@example.org")).count == 1)
        #expect(Set(try await store.listQuarantine(QuarantineQuery()).map(\.id)) == [otherNode.id, fresh.id])
    }
}
