import Foundation
import Storage

/// A service without storage (tests, front-ends that have none) says so.
public struct StorageUnavailable: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "this daemon keeps no quarantine or message log" }
}

extension DaemonService {
    public func quarantineList(_ query: QuarantineQuery) async throws -> [QuarantineRecord] { throw StorageUnavailable() }
    public func quarantineShow(id: String) async throws -> QuarantineDetail { throw StorageUnavailable() }
    public func quarantineRelease(id: String, by: String) async throws -> ReleaseOutcome { throw StorageUnavailable() }
    public func quarantineDelete(id: String, by: String) async throws { throw StorageUnavailable() }
    public func logSearch(_ query: LogQuery) async throws -> [MessageLogEntry] { throw StorageUnavailable() }
    public func statistics(since: Date, until: Date) async throws -> [HourlyCount] { throw StorageUnavailable() }
}

extension Daemon {
    /// moatd hands its storage over once it is made.
    public func setStorage(_ storage: GatewayStorage) {
        storageSlot.withLock { $0 = storage }
    }

    public var storage: GatewayStorage? { storageSlot.withLock { $0 } }

    private func requireStorage() throws -> GatewayStorage {
        guard let storage else { throw StorageUnavailable() }
        return storage
    }

    public func quarantineList(_ query: QuarantineQuery) async throws -> [QuarantineRecord] {
        try await requireStorage().quarantine.list(query)
    }

    public func quarantineShow(id: String) async throws -> QuarantineDetail {
        try await requireStorage().quarantine.show(id: id)
    }

    public func quarantineRelease(id: String, by: String) async throws -> ReleaseOutcome {
        let outcome = try await requireStorage().quarantine.release(id: id, by: by)
        logger.notice("quarantined message released", metadata: [
            "id": "\(id)", "by": "\(by)", "relay": "\(outcome.relay)", "accepted": "\(outcome.accepted.joined(separator: ","))",
        ])
        return outcome
    }

    public func quarantineDelete(id: String, by: String) async throws {
        try await requireStorage().quarantine.delete(id: id, by: by)
        logger.notice("quarantined item deleted", metadata: ["id": "\(id)", "by": "\(by)"])
    }

    public func logSearch(_ query: LogQuery) async throws -> [MessageLogEntry] {
        try await requireStorage().searchLog(query)
    }

    public func statistics(since: Date, until: Date) async throws -> [HourlyCount] {
        try await requireStorage().hourlyCounts(since: since, until: until)
    }
}
