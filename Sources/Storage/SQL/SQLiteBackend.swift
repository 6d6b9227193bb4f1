import Foundation
import GRDB

/// SQLite through GRDB, in WAL mode: one file in VarDir, nothing to set up. Reads and
/// writes block a thread of their own, never the caller's cooperative pool.
final class SQLiteBackend: SQLBackend {
    let name = "sqlite"
    private let pool: DatabasePool?
    private let queue: DatabaseQueue?
    private var writer: any DatabaseWriter { pool ?? queue! }

    /// `path` nil: in memory (tests).
    init(path: String?) throws {
        if let path {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            var configuration = Configuration()
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            // Another process (moat-ctl's local reads, a second node on the same file) may
            // hold the write lock for a moment.
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)
            queue = nil
            chmod(path, 0o600)
        } else {
            pool = nil
            queue = try DatabaseQueue()
        }
    }

    func migrate() async throws {
        try await onThread { [writer] in
            var migrator = DatabaseMigrator()
            for migration in StorageSchema.migrations {
                migrator.registerMigration(migration.name) { db in
                    for sql in migration.statements(.sqlite) { try db.execute(sql: sql) }
                }
            }
            try migrator.migrate(writer)
        }
    }

    func appliedMigrations() async throws -> [String] {
        try await onThread { [writer] in
            try writer.read { db in
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid")
            }
        }
    }

    func transaction(_ first: [SQLStatement],
                     then: @escaping @Sendable ([[SQLRow]]) throws -> [SQLStatement]) async throws -> [[SQLRow]] {
        try await onThread { [writer] in
            try writer.write { db in
                let rows = try first.map { try Self.run(db, $0) }
                return try rows + then(rows).map { try Self.run(db, $0) }
            }
        }
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        try await onThread { [writer] in try writer.read { db in try Self.run(db, statement) } }
    }

    func close() async {
        try? pool?.close()
        try? queue?.close()
    }

    private static func run(_ db: Database, _ statement: SQLStatement) throws -> [SQLRow] {
        let compiled = try db.cachedStatement(sql: statement.sql)
        let arguments = StatementArguments(statement.arguments.map(databaseValue))
        let cursor = try Row.fetchCursor(compiled, arguments: arguments)
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            rows.append(SQLRow(values: row.databaseValues.map(sqlValue)))
        }
        return rows
    }

    private static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .int(let v): v.databaseValue
        case .double(let v): v.databaseValue
        case .text(let t): t.databaseValue
        case .blob(let b): Data(b).databaseValue
        }
    }

    private static func sqlValue(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let v): .int(v)
        case .double(let v): .double(v)
        case .string(let s): .text(s)
        case .blob(let d): .blob([UInt8](d))
        }
    }

    /// GRDB blocks; the cooperative pool must not.
    private func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
