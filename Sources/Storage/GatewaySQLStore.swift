import Foundation
import Synchronization

/// `GatewayStore` written once in SQL both backends run (`?` placeholders, ON CONFLICT,
/// RETURNING), so SQLite and PostgreSQL give the same answers by construction; the tests run
/// one suite against both to keep it so.
final class GatewaySQLStore: GatewayStore {
    let backend: any SQLBackend
    private let migrated = Mutex(false)

    init(backend: any SQLBackend) {
        self.backend = backend
    }

    /// Migrates on first use (and again after a failure): a database that is down when
    /// moatd starts is brought up to date once it answers.
    func ensureSchema() async throws {
        if migrated.withLock({ $0 }) { return }
        try await backend.migrate()
        migrated.withLock { $0 = true }
    }

    var backendName: String { backend.name }
    var isShared: Bool { backend.name == "postgresql" }

    /// Rows per multi-row INSERT: well under both engines' parameter limits.
    static let chunk = 200

    func insertLog(_ entries: [MessageLogEntry]) async throws -> Int {
        try await ensureSchema()
        guard !entries.isEmpty else { return 0 }
        let byId = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let inserts = stride(from: 0, to: entries.count, by: Self.chunk).map {
            LogSQL.insert(Array(entries[$0..<min($0 + Self.chunk, entries.count)]))
        }
        let results = try await backend.transaction(inserts) { rows in
            // Only rows that were new get recipients and count in the statistics.
            let fresh = rows.flatMap { $0 }.compactMap { $0[0].text }.compactMap { byId[$0] }
            return LogSQL.recipients(fresh) + StatisticsSQL.add(fresh)
        }
        return results.prefix(inserts.count).reduce(0) { $0 + $1.count }
    }

    func searchLog(_ query: LogQuery) async throws -> [MessageLogEntry] {
        try await ensureSchema()
        return try await backend.query(LogSQL.search(query)).map(LogSQL.entry)
    }

    func insertQuarantine(_ records: [QuarantineRecord]) async throws {
        try await ensureSchema()
        guard !records.isEmpty else { return }
        try await backend.transaction(records.map(QuarantineSQL.insert))
    }

    func quarantined(id: String) async throws -> QuarantineRecord? {
        try await ensureSchema()
        return try await backend.query(SQLStatement("SELECT \(QuarantineSQL.columns) FROM quarantine WHERE id = ?", [.text(id)]))
            .first.map(QuarantineSQL.record)
    }

    func listQuarantine(_ query: QuarantineQuery) async throws -> [QuarantineRecord] {
        try await ensureSchema()
        return try await backend.query(QuarantineSQL.search(query)).map(QuarantineSQL.record)
    }

    func claimRelease(id: String, by: String, at: Date) async throws -> Bool {
        try await ensureSchema()
        let rows = try await backend.transaction([SQLStatement(
            "UPDATE quarantine SET released_ms = ?, released_by = ? WHERE id = ? AND released_ms IS NULL RETURNING id",
            [.int(at.milliseconds), .text(by), .text(id)])])
        return !(rows.first ?? []).isEmpty
    }

    func unclaimRelease(id: String, by: String) async throws {
        try await ensureSchema()
        try await backend.transaction([SQLStatement(
            "UPDATE quarantine SET released_ms = NULL, released_by = NULL WHERE id = ? AND released_by = ?",
            [.text(id), .text(by)])])
    }

    func deleteQuarantined(id: String) async throws -> Bool {
        try await ensureSchema()
        let rows = try await backend.transaction([
            SQLStatement("DELETE FROM quarantine_content WHERE id = ?", [.text(id)]),
            SQLStatement("DELETE FROM quarantine WHERE id = ? RETURNING id", [.text(id)]),
        ])
        return !(rows.last ?? []).isEmpty
    }

    func putContent(id: String, bytes: [UInt8]) async throws {
        try await ensureSchema()
        try await backend.transaction([SQLStatement(
            "INSERT INTO quarantine_content (id, bytes) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            [.text(id), .blob(bytes)])])
    }

    func content(id: String) async throws -> [UInt8]? {
        try await ensureSchema()
        return try await backend.query(SQLStatement("SELECT bytes FROM quarantine_content WHERE id = ?", [.text(id)]))
            .first?[0].blob
    }

    func expire(logBefore: Date?, quarantineBefore: Date?, node: String) async throws -> ExpiryResult {
        try await ensureSchema()
        var result = ExpiryResult()
        if let logBefore {
            let cutoff = SQLValue.int(logBefore.milliseconds)
            let rows = try await backend.transaction([
                SQLStatement("DELETE FROM message_log_recipients WHERE time_ms < ?", [cutoff]),
                SQLStatement("DELETE FROM message_log WHERE time_ms < ? RETURNING id", [cutoff]),
                SQLStatement("DELETE FROM statistics_hourly WHERE hour_ms < ?",
                             [.int(min(logBefore, Date().addingTimeInterval(-8 * 86400)).milliseconds)]),
            ])
            result.logRows = rows[1].count
        }
        if let quarantineBefore {
            let cutoff = SQLValue.int(quarantineBefore.milliseconds)
            let rows = try await backend.transaction([
                SQLStatement("""
                    DELETE FROM quarantine_content WHERE id IN
                        (SELECT id FROM quarantine WHERE node = ? AND time_ms < ?)
                    """, [.text(node), cutoff]),
                SQLStatement("DELETE FROM quarantine WHERE node = ? AND time_ms < ? RETURNING file", [.text(node), cutoff]),
            ])
            result.quarantineRows = rows[1].count
            result.files = rows[1].compactMap { $0[0].text }
        }
        return result
    }

    func hourlyCounts(since: Date, until: Date, node: String?) async throws -> [HourlyCount] {
        try await ensureSchema()
        var sql = """
            SELECT hour_ms, interface, verdict, CAST(SUM(messages) AS BIGINT) FROM statistics_hourly
            WHERE hour_ms >= ? AND hour_ms < ?
            """
        var arguments: [SQLValue] = [.int(since.milliseconds), .int(until.milliseconds)]
        if let node {
            sql += " AND node = ?"
            arguments.append(.text(node))
        }
        sql += " GROUP BY hour_ms, interface, verdict ORDER BY hour_ms, interface, verdict"
        return try await backend.query(SQLStatement(sql, arguments)).map {
            HourlyCount(hour: Date(milliseconds: $0[0].int ?? 0), interface: $0[1].text ?? "",
                        verdict: $0[2].text ?? "", messages: Int($0[3].int ?? 0))
        }
    }

    func schemaMigrations() async throws -> [String] {
        try await backend.appliedMigrations()
    }

    func close() async {
        await backend.close()
    }
}

extension Date {
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

/// Lists in TEXT columns: JSON arrays of strings.
enum JSONList {
    static func encode(_ list: [String]) -> String {
        (try? String(decoding: JSONEncoder().encode(list), as: UTF8.self)) ?? "[]"
    }

    static func decode(_ value: SQLValue) -> [String] {
        guard let text = value.text else { return [] }
        return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}
