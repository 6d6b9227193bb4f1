import Foundation
import Logging

/// The quarantine's metadata, the message log and the statistics, as the rest of Moat sees
/// them, whichever database holds them. Every call may fail (a PostgreSQL server that is down):
/// the mail path never calls these directly but through `StorageWriter`, which batches,
/// buffers and retries.
public protocol GatewayStore: Sendable {
    /// "sqlite" or "postgresql".
    var backendName: String { get }
    /// Other nodes read this database: quarantined bytes are copied into it for them.
    var isShared: Bool { get }

    /// Inserts log rows (rows already there, by id, are skipped: a batch sent twice counts
    /// once) and adds them to the hourly statistics; returns how many were new.
    @discardableResult
    func insertLog(_ entries: [MessageLogEntry]) async throws -> Int
    func searchLog(_ query: LogQuery) async throws -> [MessageLogEntry]

    /// Inserts quarantine rows (already there by id: skipped).
    func insertQuarantine(_ records: [QuarantineRecord]) async throws
    func quarantined(id: String) async throws -> QuarantineRecord?
    func listQuarantine(_ query: QuarantineQuery) async throws -> [QuarantineRecord]
    /// Claims a quarantined message for release: false when it is unknown or another
    /// administrator (maybe on another node) released it already.
    func claimRelease(id: String, by: String, at: Date) async throws -> Bool
    /// Gives a claim back after the release failed.
    func unclaimRelease(id: String, by: String) async throws
    /// Removes the row and its content copy; false when unknown.
    func deleteQuarantined(id: String) async throws -> Bool
    /// The bytes other nodes can fetch (shared databases).
    func putContent(id: String, bytes: [UInt8]) async throws
    func content(id: String) async throws -> [UInt8]?

    /// Removes log rows and statistics older than `logBefore`, and this node's quarantine
    /// rows older than `quarantineBefore` (returning their files to remove).
    func expire(logBefore: Date?, quarantineBefore: Date?, node: String) async throws -> ExpiryResult
    /// Messages per hour, interface and verdict in [since, until), all nodes summed (or one).
    func hourlyCounts(since: Date, until: Date, node: String?) async throws -> [HourlyCount]
    /// Brings the schema up to date (every other call does it on first use).
    func ensureSchema() async throws
    /// The applied schema migrations, in order.
    func schemaMigrations() async throws -> [String]
    func close() async
}

/// Opens the store `[Root] Database` names: empty for SQLite at `sqlitePath`.
public enum GatewayStores {
    /// The store, not yet migrated: fails only for a malformed URL or an SQLite file that
    /// cannot be opened, never because a PostgreSQL server is down (it migrates on first use).
    public static func make(database: String, sqlitePath: String?, logger: Logger) throws -> any GatewayStore {
        if database.trimmingCharacters(in: .whitespaces).isEmpty {
            return GatewaySQLStore(backend: try SQLiteBackend(path: sqlitePath))
        }
        return GatewaySQLStore(backend: PostgresBackend(try DatabaseLocation(parsing: database), logger: logger))
    }

    /// The store, migrated: fails when the database does not answer.
    public static func open(database: String, sqlitePath: String?, logger: Logger) async throws -> any GatewayStore {
        let store = try make(database: database, sqlitePath: sqlitePath, logger: logger)
        do {
            try await store.ensureSchema()
        } catch {
            await store.close()
            throw error
        }
        return store
    }
}
