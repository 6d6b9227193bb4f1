import MailD
import MoatService

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
    }

    public var command: Command
    /// For `scan`: absolute paths.
    public var paths: [String]?
    /// For `scan`: which interface's limits apply (Milter, Spamd, Rspamd, LinuxFirewall, ClamD).
    public var profile: String?
    /// For `learn`: "spam", "ham" or "forget".
    public var learnAs: String?

    public init(_ command: Command, paths: [String]? = nil, profile: String? = nil, learnAs: String? = nil) {
        self.command = command
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

    public init(ok: Bool, message: String? = nil, appInfo: AppInfo? = nil, scanReports: [NamedReport]? = nil,
                learnReport: LearnReport? = nil, denied: Bool? = nil) {
        self.ok = ok
        self.denied = denied
        self.learnReport = learnReport
        self.message = message
        self.appInfo = appInfo
        self.scanReports = scanReports
    }
}
