import MailD

/// What `moat-ctl` (and later the console) asks moatd over the control socket: one JSON
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

/// `moat-ctl appinfo`: what runs, where it listens, which settings it runs on.
public struct AppInfo: Codable, Sendable, Equatable {
    public var version: String
    public var pid: Int32
    public var configFile: String
    /// Seconds since the epoch.
    public var startedAt: Double
    public var lastReloadAt: Double?
    /// Number of successful reloads since start.
    public var settingsGeneration: Int
    public var components: [ComponentInfo]

    public init(version: String, pid: Int32, configFile: String, startedAt: Double, lastReloadAt: Double?,
                settingsGeneration: Int, components: [ComponentInfo]) {
        self.version = version
        self.pid = pid
        self.configFile = configFile
        self.startedAt = startedAt
        self.lastReloadAt = lastReloadAt
        self.settingsGeneration = settingsGeneration
        self.components = components
    }
}

public struct ComponentInfo: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Serving.
        case running
        /// Not configured (e.g. its socket is not set), so deliberately not running.
        case off
        /// Configured but could not start; `detail` says why.
        case failed
        /// Configured, but this build of Moat does not have the component yet.
        case unavailable
    }

    public var name: String
    public var state: State
    public var listening: [String]
    public var detail: String?

    public init(name: String, state: State, listening: [String] = [], detail: String? = nil) {
        self.name = name
        self.state = state
        self.listening = listening
        self.detail = detail
    }
}

/// One scanned message: where it came from and what was found.
public struct NamedReport: Codable, Sendable {
    public var name: String
    public var report: CheckReport?
    /// Set when the message could not be read at all.
    public var error: String?

    public init(name: String, report: CheckReport?, error: String? = nil) {
        self.name = name
        self.report = report
        self.error = error
    }
}
