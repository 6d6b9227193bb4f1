/// What a database engine must do for the storage layer: run statements in one transaction,
/// answer a query, and bring its schema up to date. Everything else (the SQL itself) is
/// shared, in `GatewaySQLStore`.
protocol SQLBackend: Sendable {
    /// "sqlite" or "postgresql".
    var name: String { get }
    /// Applies the migrations of `StorageSchema` not applied yet, in order, each once, also
    /// when several nodes start at the same moment against one database.
    func migrate() async throws
    /// The names of the applied migrations, in order.
    func appliedMigrations() async throws -> [String]
    /// Runs `first`, then the statements `then` makes from their rows (what an INSERT ...
    /// RETURNING inserted), all in one transaction; returns the rows of every statement (a
    /// statement without RETURNING gives none).
    func transaction(_ first: [SQLStatement],
                     then: @escaping @Sendable ([[SQLRow]]) throws -> [SQLStatement]) async throws -> [[SQLRow]]
    /// One read.
    func query(_ statement: SQLStatement) async throws -> [SQLRow]
    func close() async
}

extension SQLBackend {
    @discardableResult
    func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await transaction(statements, then: { _ in [] })
    }
}
