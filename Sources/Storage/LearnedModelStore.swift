import Foundation
import GRDB

/// The learned anti-spam model on disk: which messages were learned as what, and the
/// per-feature counts. Values in, values out; the tokenizer and the classifier live in
/// AntiSpam, which keeps its own copy of the counts in memory for scoring.
///
/// SQLite through GRDB; a file path opens (and migrates) a database in WAL mode, `nil`
/// an in-memory one (tests, benchmarks).
public final class LearnedModelStore: Sendable {
    private let writer: any DatabaseWriter

    public init(path: String?) throws {
        if let path {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var configuration = Configuration()
            // WAL with synchronous=NORMAL: a crash may lose the last learned messages, never
            // corrupt the model; FULL would sync every learned message to disk.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            writer = try DatabasePool(path: path, configuration: configuration)
        } else {
            writer = try DatabaseQueue()
        }
        try ModelSchema.migrator.migrate(writer)
    }

    /// Every feature count, for loading the model into memory.
    public func allFeatureCounts() throws -> [FeatureCount] {
        try writer.read { db in
            var out: [FeatureCount] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT feature, spam, ham FROM antispam_features")
            while let row = try rows.next() {
                out.append(FeatureCount(feature: row[0], spam: row[1], ham: row[2]))
            }
            return out
        }
    }

    /// How many messages of each class are learned.
    public func learnedCounts() throws -> [LearnedClass: Int] {
        try writer.read { db in
            var out: [LearnedClass: Int] = [.spam: 0, .ham: 0]
            let rows = try Row.fetchAll(db, sql: "SELECT class, COUNT(*) FROM antispam_learned GROUP BY class")
            for row in rows {
                if let c = LearnedClass(rawValue: row[0]) { out[c] = row[1] }
            }
            return out
        }
    }

    /// The class a message (by its digest) was learned as, if any.
    public func learnedClass(digest: String) throws -> LearnedClass? {
        try writer.read { db in
            try String.fetchOne(db, sql: "SELECT class FROM antispam_learned WHERE digest = ?", arguments: [digest])
                .flatMap(LearnedClass.init(rawValue:))
        }
    }

    /// Learns a message with its (distinct) features as `learnedClass`, in one transaction.
    /// A message learned before as the same class changes nothing; as the other class it moves.
    public func learn(digest: String, as learnedClass: LearnedClass, features: [Int64], at date: Date = Date()) throws -> LearnOutcome {
        try writer.write { db in
            let previous = try String.fetchOne(
                db, sql: "SELECT class FROM antispam_learned WHERE digest = ?", arguments: [digest]
            ).flatMap(LearnedClass.init(rawValue:))
            if previous == learnedClass { return .alreadyLearned }
            if let previous {
                try Self.add(db, features: features, to: previous, delta: -1)
                try db.execute(sql: "UPDATE antispam_learned SET class = ?, learned_at = ? WHERE digest = ?",
                               arguments: [learnedClass.rawValue, Int64(date.timeIntervalSince1970), digest])
            } else {
                try db.execute(sql: "INSERT INTO antispam_learned (digest, class, learned_at) VALUES (?, ?, ?)",
                               arguments: [digest, learnedClass.rawValue, Int64(date.timeIntervalSince1970)])
            }
            try Self.add(db, features: features, to: learnedClass, delta: 1)
            return previous.map { .relearned(from: $0) } ?? .learned
        }
    }

    /// Removes a learned message; `features` must be the ones it was learned with.
    public func forget(digest: String, features: [Int64]) throws -> LearnOutcome {
        try writer.write { db in
            guard let previous = try String.fetchOne(
                db, sql: "SELECT class FROM antispam_learned WHERE digest = ?", arguments: [digest]
            ).flatMap(LearnedClass.init(rawValue:)) else { return .notLearned }
            try Self.add(db, features: features, to: previous, delta: -1)
            try db.execute(sql: "DELETE FROM antispam_learned WHERE digest = ?", arguments: [digest])
            return .forgotten(previous)
        }
    }

    private static func add(_ db: Database, features: [Int64], to learnedClass: LearnedClass, delta: Int64) throws {
        let column = learnedClass == .spam ? "spam" : "ham"
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO antispam_features (feature, spam, ham) VALUES (?, ?, ?)
            ON CONFLICT (feature) DO UPDATE SET \(column) = antispam_features.\(column) + excluded.\(column)
            """)
        let spam = learnedClass == .spam ? delta : 0
        let ham = learnedClass == .ham ? delta : 0
        // Features no learned message holds any more carry no information: dropped.
        let prune = try db.cachedStatement(sql: "DELETE FROM antispam_features WHERE feature = ? AND spam <= 0 AND ham <= 0")
        for feature in features {
            try upsert.execute(arguments: [feature, spam, ham])
            if delta < 0 { try prune.execute(arguments: [feature]) }
        }
    }
}
