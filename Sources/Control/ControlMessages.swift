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
    }

    public var command: Command
    /// For `scan`: absolute paths.
    public var paths: [String]?
    /// For `scan`: which interface's limits apply (Milter, Spamd, Rspamd, LinuxFirewall, ClamD).
    public var profile: String?

    public init(_ command: Command, paths: [String]? = nil, profile: String? = nil) {
        self.command = command
        self.paths = paths
        self.profile = profile
    }
}

public struct ControlResponse: Codable, Sendable {
    public var ok: Bool
    /// For people: what happened, or why not.
    public var message: String?
    public var appInfo: AppInfo?
    public var scanReports: [NamedReport]?

    public init(ok: Bool, message: String? = nil, appInfo: AppInfo? = nil, scanReports: [NamedReport]? = nil) {
        self.ok = ok
        self.message = message
        self.appInfo = appInfo
        self.scanReports = scanReports
    }
}
