import Foundation
import Logging
import MoatConfig
import Synchronization

/// Levels and destinations of every component, taken from the configuration and replaced on
/// reload, so `cfset MailD.LogLevel Debug` + reload takes effect without a restart.
public final class LogRouting: Sendable {
    public init() {}

    public struct Route: Sendable {
        var level: Logger.Level
        var target: LogTarget
    }

    private let routes = Mutex<[String: Route]>([:])
    private let fallback = Mutex(Route(level: .notice, target: .auto))

    /// Components are loggers' labels; each section with `LogLevel`/`Log` is one.
    public func apply(_ values: ConfigValues) {
        let root = values.root
        let defaultLevel = Logger.Level(moat: root.defaultLogLevel.rawValue)
        var next: [String: Route] = ["moatd": Route(level: Logger.Level(moat: root.logLevel.rawValue), target: root.log)]
        for component in values.loggingGroups {
            next[component.section] = Route(
                level: component.logLevel == .default ? defaultLevel : Logger.Level(moat: component.logLevel.rawValue),
                target: component.log == .auto ? root.log : component.log)
        }
        routes.withLock { $0 = next }
        fallback.withLock { $0 = Route(level: defaultLevel, target: root.log) }
    }

    /// Opens every log file the settings name, while moatd still runs as root: the files stay
    /// open after it switches to `[Root] User`, wherever they are.
    public func openFiles(_ values: ConfigValues) {
        for target in [values.root.log] + values.loggingGroups.map(\.log) {
            if case .file(let path) = target { LogSink.shared.open(path) }
        }
    }

    public func route(for label: String) -> Route {
        routes.withLock { $0[label] } ?? fallback.withLock { $0 }
    }
}

extension Logger.Level {
    /// Dr.Web's level names map one to one onto swift-log's.
    init(moat name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning": self = .warning
        case "error": self = .error
        default: self = .notice
        }
    }
}
