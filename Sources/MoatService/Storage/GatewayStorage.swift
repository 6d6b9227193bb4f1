import Foundation
import Logging
import MailD
import MoatConfig
import ServiceLifecycle
import Storage
import Synchronization

/// moatd's storage: the database `[Root] Database` names (SQLite in VarDir when empty), the
/// writer that feeds it off the mail path, the quarantine directory, and the services the
/// control socket and the console call (`QuarantineService`, message log search,
/// statistics). As a `Service` it runs the writer and the retention job.
public final class GatewayStorage: Service, Sendable {
    public let store: any GatewayStore
    public let writer: StorageWriter
    public let records: MailRecords
    public let node: String
    private let current: Mutex<Settings>
    let logger: Logger

    /// The settings in force (a reload changes them through `update`).
    public func settings() -> Settings { current.withLock { $0 } }

    public func update(_ values: ConfigValues) {
        let new = Self.settings(values)
        current.withLock { $0 = new }
    }

    /// What may change on reload.
    public struct Settings: Sendable {
        public var quarantineRetention: Duration
        public var messageLogRetention: Duration
        /// `QuarantineReleaseRelay` as host and port; nil: releases are refused.
        public var releaseRelay: (host: String, port: Int)?

        public init(quarantineRetention: Duration = .seconds(30 * 86400), messageLogRetention: Duration = .seconds(90 * 86400),
                    releaseRelay: (host: String, port: Int)? = nil) {
            self.quarantineRetention = quarantineRetention
            self.messageLogRetention = messageLogRetention
            self.releaseRelay = releaseRelay
        }
    }

    public init(store: any GatewayStore, varDir: String, node: String, logger: Logger, settings: Settings) {
        self.store = store
        self.node = node
        self.logger = logger
        self.current = Mutex(settings)
        writer = StorageWriter(store: store, bufferPath: varDir + "/storage-buffer.jsonl", logger: logger)
        records = MailRecords(quarantineDirectory: varDir + "/quarantine", node: node, writer: writer)
    }

    /// `[Root] NodeName`, or the host name when empty.
    public static func nodeName(_ configured: String) -> String {
        let trimmed = configured.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty { return trimmed }
        return ProcessInfo.processInfo.hostName
    }

    /// `[Root] Database = Off`: no storage at all.
    public static func isOff(_ database: String) -> Bool {
        database.trimmingCharacters(in: .whitespaces).lowercased() == "off"
    }

    /// The rule sets with a QUARANTINE action, which cannot hold anything with `Database = Off`
    /// (their messages are answered TEMPFAIL): moatd warns at start.
    public static func quarantineRuleSets(_ values: ConfigValues) -> [ParameterKey] {
        values.schema.allKeys.filter { key in
            guard case .rules? = values.schema.spec(key)?.type else { return false }
            return values.formatted(key).uppercased().contains("QUARANTINE")
        }
    }

    /// From the configuration: the store is made (not yet reached: a PostgreSQL server that
    /// is down at start is reached later, mail flows meanwhile); nil when `Database = Off`.
    public static func make(_ values: ConfigValues, logger: Logger) throws -> GatewayStorage? {
        let root = values.root
        guard !isOff(root.database) else { return nil }
        let varDir = root.varDir
        let store = try GatewayStores.make(database: root.database, sqlitePath: varDir + "/moat.sqlite", logger: logger)
        try? FileManager.default.createDirectory(atPath: varDir + "/quarantine", withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        return GatewayStorage(store: store, varDir: varDir, node: nodeName(root.nodeName), logger: logger,
                              settings: Self.settings(values))
    }

    public static func settings(_ values: ConfigValues) -> Settings {
        let root = values.root
        var relay: (String, Int)?
        if let address = root.quarantineReleaseRelay, case .tcp(let host, let port) = address { relay = (host, port) }
        return Settings(quarantineRetention: .milliseconds(root.quarantineRetention.milliseconds),
                        messageLogRetention: .milliseconds(root.messageLogRetention.milliseconds), releaseRelay: relay)
    }

    public var quarantine: QuarantineService { QuarantineService(storage: self) }

    public func searchLog(_ query: LogQuery) async throws -> [MessageLogEntry] {
        try await store.searchLog(query)
    }

    /// Messages per hour, interface and verdict, summed over every node sharing the database.
    public func hourlyCounts(since: Date, until: Date, node: String? = nil) async throws -> [HourlyCount] {
        try await store.hourlyCounts(since: since, until: until, node: node)
    }

    /// One retention pass: expired rows, their files, and day directories of this node's
    /// quarantine older than the retention (files whose rows another node deleted).
    @discardableResult
    public func expire(now: Date = Date()) async throws -> ExpiryResult {
        let current = settings()
        let quarantineBefore = now - TimeInterval(current.quarantineRetention.components.seconds)
        let result = try await store.expire(logBefore: now - TimeInterval(current.messageLogRetention.components.seconds),
                                            quarantineBefore: quarantineBefore, node: node)
        for file in result.files { records.files.remove(file) }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let days = (try? FileManager.default.contentsOfDirectory(atPath: records.files.directory)) ?? []
        for day in days {
            // The whole day is past the retention once its end is.
            guard let start = formatter.date(from: day), start + 86400 < quarantineBefore else { continue }
            try? FileManager.default.removeItem(atPath: records.files.directory + "/" + day)
        }
        if result.logRows + result.quarantineRows > 0 {
            logger.info("retention: removed \(result.logRows) message log rows and \(result.quarantineRows) quarantined items")
        }
        return result
    }

    public func run() async throws {
        let writer = writer
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await writer.run() }
                group.addTask { [self] in
                    while !Task.isCancelled {
                        do { try await expire() } catch { logger.warning("retention pass failed: \(error)") }
                        try? await Task.sleep(for: .seconds(3600))
                    }
                }
                await group.waitForAll()
            }
        }
        await store.close()
    }
}
