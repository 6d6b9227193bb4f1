import Foundation
import MailD
import Storage

/// What the running daemon offers to its management front-ends: the control socket that
/// `moat-ctl` talks to and the HTTPS console. Both call these and hold no logic of their own;
/// it lives here, below both of them (Control and WebConsole import MoatService), because
/// both need it; `Daemon` is the implementation moatd runs.
public protocol DaemonService: Sendable {
    func appInfo() async -> AppInfo
    /// Rereads the configuration file. An invalid file is refused whole; the daemon keeps
    /// its settings and the error comes back to the caller.
    func reload() async -> ReloadOutcome
    /// Scans message files, mboxes and Maildirs with the daemon's engine.
    func scan(paths: [String], profile: String?, spam: Bool) async -> [NamedReport]
    /// Learns the messages at `paths` as spam or ham for the anti-spam model, or forgets
    /// them (nil); nil when this service has no anti-spam model to teach.
    func learn(paths: [String], as learnedClass: LearnedClass?) async -> LearnReport?

    // The quarantine, the message log and the statistics (DaemonService+Storage.swift).
    func quarantineList(_ query: QuarantineQuery) async throws -> [QuarantineRecord]
    func quarantineShow(id: String) async throws -> QuarantineDetail
    func quarantineRelease(id: String, by: String) async throws -> ReleaseOutcome
    func quarantineDelete(id: String, by: String) async throws
    func logSearch(_ query: LogQuery) async throws -> [MessageLogEntry]
    func statistics(since: Date, until: Date) async throws -> [HourlyCount]
}

extension DaemonService {
    public func learn(paths: [String], as learnedClass: LearnedClass?) async -> LearnReport? { nil }
}

public enum ReloadOutcome: Sendable, Equatable {
    case reloaded(changed: [String])
    case refused(reason: String)
}
