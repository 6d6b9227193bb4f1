import Foundation
import Logging
import NIOCore
import PostgresNIO

/// PostgreSQL through postgres-nio: one database several gateways share. A connection pool
/// runs in a task of its own; every operation has a deadline, so a database that is down or
/// unreachable makes the caller fail (and the writer buffer) instead of waiting forever.
final class PostgresBackend: SQLBackend {
    let name = "postgresql"
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    let timeout: Duration

    init(_ location: DatabaseLocation, logger: Logger, timeout: Duration = .seconds(5)) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.connectTimeout = timeout
        configuration.options.maximumConnections = 4
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let client = client
        runner = Task { await client.run() }
        self.logger = logger
        self.timeout = timeout
    }

    /// A lock number of Moat's own: nodes starting together migrate one after the other.
    static let migrationLock: Int64 = 0x4D4F_4154_5354_4F52

    func migrate() async throws {
        try await withDeadline(.seconds(60)) { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS moat_migrations (
                        name TEXT PRIMARY KEY NOT NULL, applied_ms BIGINT NOT NULL)
                    """, logger: logger)
                var applied = Set<String>()
                for try await name in try await connection.query("SELECT name FROM moat_migrations", logger: logger)
                    .decode(String.self) { applied.insert(name) }
                for migration in StorageSchema.migrations where !applied.contains(migration.name) {
                    for sql in migration.statements(.postgresql) {
                        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
                    }
                    let now = Int64(Date().timeIntervalSince1970 * 1000)
                    try await connection.query(
                        "INSERT INTO moat_migrations (name, applied_ms) VALUES (\(migration.name), \(now))", logger: logger)
                }
            }
        }
    }

    func appliedMigrations() async throws -> [String] {
        try await query(SQLStatement("SELECT name FROM moat_migrations ORDER BY applied_ms, name")).compactMap { $0[0].text }
    }

    func transaction(_ first: [SQLStatement],
                     then: @escaping @Sendable ([[SQLRow]]) throws -> [SQLStatement]) async throws -> [[SQLRow]] {
        let queries = try first.map(Self.postgresQuery)
        return try await withDeadline(timeout) { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var out: [[SQLRow]] = []
                for query in queries {
                    out.append(try await Self.collect(try await connection.query(query, logger: logger)))
                }
                for statement in try then(out) {
                    let query = try Self.postgresQuery(statement)
                    out.append(try await Self.collect(try await connection.query(query, logger: logger)))
                }
                return out
            }
        }
    }

    func query(_ statement: SQLStatement) async throws -> [SQLRow] {
        let query = try Self.postgresQuery(statement)
        return try await withDeadline(timeout) { [client, logger] in
            try await Self.collect(try await client.query(query, logger: logger))
        }
    }

    func close() async {
        runner.cancel()
        _ = await runner.value
    }

    struct Timeout: Error, CustomStringConvertible {
        var description: String { "the PostgreSQL database did not answer in time" }
    }

    /// Runs `body`, or fails with `Timeout` once `limit` has passed (the body is cancelled).
    private func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw Timeout() }
            return value
        }
    }

    /// `?` placeholders become `$1`, `$2`, ...
    static func postgresQuery(_ statement: SQLStatement) throws -> PostgresQuery {
        var sql = ""
        var index = 0
        for character in statement.sql {
            if character == "?" {
                index += 1
                sql += "$\(index)"
            } else {
                sql.append(character)
            }
        }
        var binds = PostgresBindings(capacity: statement.arguments.count)
        for value in statement.arguments {
            switch value {
            case .null: binds.appendNull()
            case .int(let v): try binds.append(v)
            case .double(let v): try binds.append(v)
            case .text(let t): try binds.append(t)
            case .blob(let b): try binds.append(ByteBuffer(bytes: b))
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    private static func collect(_ rows: PostgresRowSequence) async throws -> [SQLRow] {
        var out: [SQLRow] = []
        for try await row in rows {
            var values: [SQLValue] = []
            for cell in row { values.append(try value(cell)) }
            out.append(SQLRow(values: values))
        }
        return out
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea: return .blob(Array((try cell.decode(ByteBuffer.self)).readableBytesView))
        case .numeric:
            let text = try cell.decode(String.self)
            return Int64(text).map(SQLValue.int) ?? Double(text).map(SQLValue.double) ?? .text(text)
        default: return .text(try cell.decode(String.self))
        }
    }
}
