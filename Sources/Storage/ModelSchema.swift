import GRDB

/// Versioned migrations of the learned anti-spam model.
///
/// Plain tables with integer and text columns and an `ON CONFLICT` upsert, so that the same
/// schema works on PostgreSQL when a later issue adds that backend: no SQLite-only types,
/// no `WITHOUT ROWID`, no triggers.
enum ModelSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("antispam-v1") { db in
            // One row per learned message: what makes learning twice count once.
            try db.execute(sql: """
                CREATE TABLE antispam_learned (
                    digest TEXT PRIMARY KEY NOT NULL,
                    class TEXT NOT NULL,
                    learned_at BIGINT NOT NULL
                )
                """)
            try db.execute(sql: "CREATE INDEX antispam_learned_class ON antispam_learned (class)")
            // One row per hashed feature: in how many learned spam and ham messages it was.
            try db.execute(sql: """
                CREATE TABLE antispam_features (
                    feature BIGINT PRIMARY KEY NOT NULL,
                    spam BIGINT NOT NULL DEFAULT 0,
                    ham BIGINT NOT NULL DEFAULT 0
                )
                """)
        }
        return migrator
    }
}
