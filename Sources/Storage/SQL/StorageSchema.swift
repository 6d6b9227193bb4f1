/// The versioned schema of the quarantine, the message log and the statistics, the same on
/// both backends: each migration runs once, in order, at start (GRDB's migrator on SQLite,
/// `moat_migrations` under an advisory lock on PostgreSQL). Add migrations; never edit one
/// that has shipped. Plain types only (TEXT, BIGINT, DOUBLE PRECISION, BYTEA: SQLite takes
/// them all), times in milliseconds since 1970, ids made by the node (UUIDs), so rows from
/// several nodes never collide.
enum StorageSchema {
    enum Dialect: Sendable { case sqlite, postgresql }

    struct Migration: Sendable {
        var name: String
        var statements: @Sendable (Dialect) -> [String]
    }

    static let migrations: [Migration] = [
        Migration(name: "gateway-v1") { _ in
            [
                // One row per verdict (event "verdict") and per administrator action on the
                // quarantine (event "release", "delete"). Lists are JSON arrays.
                """
                CREATE TABLE message_log (
                    id TEXT PRIMARY KEY NOT NULL,
                    time_ms BIGINT NOT NULL,
                    node TEXT NOT NULL,
                    event TEXT NOT NULL,
                    interface TEXT NOT NULL,
                    client_address TEXT,
                    sender TEXT,
                    sender_key TEXT,
                    recipients TEXT NOT NULL,
                    message_id TEXT,
                    subject TEXT,
                    size BIGINT NOT NULL,
                    verdict TEXT NOT NULL,
                    threats TEXT NOT NULL,
                    spam_score DOUBLE PRECISION,
                    spam_symbols TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    quarantine_id TEXT
                )
                """,
                "CREATE INDEX message_log_time ON message_log (time_ms)",
                "CREATE INDEX message_log_sender ON message_log (sender_key, time_ms)",
                "CREATE INDEX message_log_message_id ON message_log (message_id)",
                "CREATE INDEX message_log_verdict ON message_log (verdict, time_ms)",
                "CREATE INDEX message_log_quarantine ON message_log (quarantine_id)",
                // Recipients searched one by one (lower-cased), newest first.
                """
                CREATE TABLE message_log_recipients (
                    log_id TEXT NOT NULL,
                    recipient TEXT NOT NULL,
                    time_ms BIGINT NOT NULL,
                    PRIMARY KEY (log_id, recipient)
                )
                """,
                "CREATE INDEX message_log_recipients_recipient ON message_log_recipients (recipient, time_ms)",
                // Quarantined messages and kept repack archives; the bytes are a file on the
                // node that kept them (`file`, relative to its quarantine directory) and, on a
                // shared database, a copy in quarantine_content for the other nodes.
                """
                CREATE TABLE quarantine (
                    id TEXT PRIMARY KEY NOT NULL,
                    time_ms BIGINT NOT NULL,
                    node TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    interface TEXT NOT NULL,
                    client_address TEXT,
                    sender TEXT,
                    sender_key TEXT,
                    recipients TEXT NOT NULL,
                    message_id TEXT,
                    subject TEXT,
                    size BIGINT NOT NULL,
                    verdict TEXT NOT NULL,
                    threats TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    file TEXT NOT NULL,
                    message_ref TEXT,
                    released_ms BIGINT,
                    released_by TEXT
                )
                """,
                "CREATE INDEX quarantine_time ON quarantine (time_ms)",
                "CREATE INDEX quarantine_sender ON quarantine (sender_key, time_ms)",
                "CREATE INDEX quarantine_message_id ON quarantine (message_id)",
                """
                CREATE TABLE quarantine_content (
                    id TEXT PRIMARY KEY NOT NULL,
                    bytes BYTEA NOT NULL
                )
                """,
                // Messages per hour, node, interface and verdict: a cluster sums its nodes.
                """
                CREATE TABLE statistics_hourly (
                    hour_ms BIGINT NOT NULL,
                    node TEXT NOT NULL,
                    interface TEXT NOT NULL,
                    verdict TEXT NOT NULL,
                    messages BIGINT NOT NULL,
                    PRIMARY KEY (hour_ms, node, interface, verdict)
                )
                """,
            ]
        },
    ]
}
