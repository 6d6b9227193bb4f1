/// One write waiting for the database: a log row, or a quarantined item's metadata (with,
/// for a shared database, the file whose bytes the other nodes need). Codable: when the
/// database is down, writes wait in the local buffer file as JSON lines.
public enum StorageWrite: Sendable, Codable, Equatable {
    case log(MessageLogEntry)
    case quarantine(QuarantineRecord, contentPath: String?)

    var isLog: Bool { if case .log = self { true } else { false } }
}

/// What the writer did so far, for appinfo, the console and the tests.
public struct WriterCounters: Sendable, Codable, Equatable {
    /// Waiting in memory now.
    public var queued = 0
    /// Log rows and quarantine rows written to the database.
    public var written = 0
    /// Writes that went to the local buffer file because the database failed.
    public var buffered = 0
    /// Writes later replayed from the buffer file into the database.
    public var replayed = 0
    /// Log rows given up: memory queue and buffer file both full (quarantine metadata is
    /// never given up: its files carry it too).
    public var dropped = 0
    /// Failed attempts to reach the database.
    public var failures = 0
    /// Bytes in the buffer file now.
    public var bufferBytes = 0
    public var databaseUp = true
    public var lastError: String?

    public init() {}
}
