import MailD

/// `moat-ctl appinfo` and the console's status page: what runs, where it listens, which
/// settings it runs on.
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
    /// The anti-spam model's learned counts (nil from a daemon that has none).
    public var learned: LearnedCountsInfo?

    public init(version: String, pid: Int32, configFile: String, startedAt: Double, lastReloadAt: Double?,
                settingsGeneration: Int, components: [ComponentInfo], learned: LearnedCountsInfo? = nil) {
        self.learned = learned
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
        /// Configured and on its way up (binding its addresses).
        case starting
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
