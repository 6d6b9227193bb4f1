import MailD
import MoatService
import Storage

/// What `moat-ctl` asks moatd over the control socket: one JSON
/// object per line each way. JSON keeps the wire readable with `socat` when debugging.
public struct ControlRequest: Codable, Sendable, Equatable {
    public enum Command: String, Codable, Sendable {
        case appinfo
        case reload
        /// Scan message files, mboxes or Maildirs that moatd can read, with its loaded engine.
        case scan
        /// Learn message files, mboxes or Maildirs as spam or ham (or forget them).
        case learn
        /// The quarantine: list (`quarantineQuery`), show, release, delete (`id`, `by`).
        case quarantineList, quarantineShow, quarantineRelease, quarantineDelete
        /// The message log (`logQuery`).
        case logSearch
    }

    public var command: Command
    /// For `scan`: absolute paths.
    public var paths: [String]?
    /// For `scan`: which interface's limits apply (Milter, Spamd, Rspamd, LinuxFirewall, ClamD).
    public var profile: String?
    /// For `scan`: also score spam.
    public var spam: Bool?
    /// For `learn`: "spam", "ham" or "forget".
    public var learnAs: String?
    /// For the quarantine commands: the item, and who acts (for the log and the header).
    public var id: String?
    public var by: String?
    public var quarantineQuery: QuarantineQuery?
    public var logQuery: LogQuery?

    public init(_ command: Command, paths: [String]? = nil, profile: String? = nil, spam: Bool? = nil, learnAs: String? = nil,
                id: String? = nil, by: String? = nil, quarantineQuery: QuarantineQuery? = nil, logQuery: LogQuery? = nil) {
        self.command = command
        self.spam = spam
        self.id = id
        self.by = by
        self.quarantineQuery = quarantineQuery
        self.logQuery = logQuery
        self.paths = paths
        self.profile = profile
        self.learnAs = learnAs
    }
}

public struct ControlResponse: Codable, Sendable {
    public var ok: Bool
    /// For people: what happened, or why not.
    public var message: String?
    public var appInfo: AppInfo?
    public var scanReports: [NamedReport]?
    public var learnReport: LearnReport?
    /// The peer is not allowed to talk to moatd (SO_PEERCRED: not root).
    public var denied: Bool?
    public var quarantine: [QuarantineRecord]?
    public var quarantineDetail: QuarantineDetail?
    public var release: ReleaseOutcome?
    public var logEntries: [MessageLogEntry]?

    public init(ok: Bool, message: String? = nil, appInfo: AppInfo? = nil, scanReports: [NamedReport]? = nil,
                learnReport: LearnReport? = nil, denied: Bool? = nil, quarantine: [QuarantineRecord]? = nil,
                quarantineDetail: QuarantineDetail? = nil, release: ReleaseOutcome? = nil,
                logEntries: [MessageLogEntry]? = nil) {
        self.ok = ok
        self.quarantine = quarantine
        self.quarantineDetail = quarantineDetail
        self.release = release
        self.logEntries = logEntries
        self.denied = denied
        self.learnReport = learnReport
        self.message = message
        self.appInfo = appInfo
        self.scanReports = scanReports
    }
}
