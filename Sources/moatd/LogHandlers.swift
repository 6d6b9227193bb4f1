import Foundation
import Logging
import MoatConfig
import Synchronization

/// Levels and destinations of every component, taken from the configuration and replaced on
/// reload, so `cfset MailD.LogLevel Debug` + reload takes effect without a restart.
final class LogRouting: Sendable {
    struct Route: Sendable {
        var level: Logger.Level
        var target: LogTarget
    }

    private let routes = Mutex<[String: Route]>([:])
    private let fallback = Mutex(Route(level: .notice, target: .auto))

    /// Components are loggers' labels; each section with `LogLevel`/`Log` is one.
    func apply(_ values: ConfigValues) {
        let rootTarget = LogTarget.from(values.value("Root", "Log"))
        let defaultLevel = Logger.Level(moat: values.value("Root", "DefaultLogLevel").text ?? "Notice")
        var next: [String: Route] = [
            "moatd": Route(level: Logger.Level(moat: values.value("Root", "LogLevel").text ?? "Notice"), target: rootTarget),
        ]
        for section in values.schema.sections where section.name != "Root" {
            guard section.parameter(named: "LogLevel") != nil else { continue }
            let levelText = values.value(section.name, "LogLevel").text ?? "Default"
            let target = LogTarget.from(values.value(section.name, "Log"))
            next[section.name] = Route(
                level: levelText.lowercased() == "default" ? defaultLevel : Logger.Level(moat: levelText),
                target: target == .auto ? rootTarget : target)
        }
        routes.withLock { $0 = next }
        fallback.withLock { $0 = Route(level: defaultLevel, target: rootTarget) }
    }

    func route(for label: String) -> Route {
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

extension LogTarget {
    static func from(_ value: ConfigValue) -> LogTarget {
        (try? LogTarget(parsing: value.text ?? "Auto")) ?? .auto
    }
}

/// One handler per logger label; the level and destination are looked up on each message so
/// that a reload applies at once.
struct MoatLogHandler: LogHandler {
    let label: String
    let routing: LogRouting
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, routing: LogRouting) {
        self.label = label
        self.routing = routing
    }

    var logLevel: Logger.Level {
        get { routing.route(for: label).level }
        set { /* levels come from the configuration only */ }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let route = routing.route(for: label)
        guard event.level >= route.level else { return }
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        // The message and every field may quote a peer or a message (a host name, an address,
        // a header, an error text): escaped here too, so no component can write a line break,
        // a terminal escape or a bidi override into the log, whatever it forgot.
        let fields = all.sorted { $0.key < $1.key }
            .map { "\(LogText.escape($0.key, maxLength: 64))=\(LogText.escape("\($0.value)", maxLength: 2048))" }
            .joined(separator: " ")
        let text = "[\(LogText.escape(label, maxLength: 64))] \(event.level.rawValue.uppercased()): \(LogText.escape("\(event.message)", maxLength: 4096))"
            + (fields.isEmpty ? "" : " \(fields)")
        LogSink.shared.write(text, level: event.level, to: route.target)
    }
}

/// Writes formatted lines to their destination; one lock so lines never interleave.
final class LogSink: Sendable {
    static let shared = LogSink()
    private let files = Mutex<[String: FileHandle]>([:])
    private let syslogOpened = Mutex<String?>(nil)

    func write(_ text: String, level: Logger.Level, to target: LogTarget) {
        switch target {
        case .auto, .stderr:
            // The journal stamps lines itself; anywhere else (a terminal, a nohup file) we do.
            let line = Self.underJournal ? text : Self.timestamp() + " " + text
            files.withLock { _ in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        case .file(let path):
            files.withLock { open in
                if open[path] == nil {
                    if !FileManager.default.fileExists(atPath: path) {
                        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o640])
                    }
                    open[path] = FileHandle(forWritingAtPath: path)
                    _ = try? open[path]?.seekToEnd()
                }
                open[path]?.write(Data((Self.timestamp() + " " + text + "\n").utf8))
            }
        case .syslog(let facility):
            syslogOpened.withLock { opened in
                if opened != facility {
                    openlog("moatd", LOG_PID, Self.facilityCode(facility))
                    opened = facility
                }
                withVaList([text]) { vsyslog(Self.priority(level), "%s", $0) }
            }
        }
    }

    static let underJournal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil

    static func timestamp() -> String {
        Date().formatted(.iso8601)
    }

    static func priority(_ level: Logger.Level) -> Int32 {
        switch level {
        case .trace, .debug: LOG_DEBUG
        case .info: LOG_INFO
        case .notice: LOG_NOTICE
        case .warning: LOG_WARNING
        case .error: LOG_ERR
        case .critical: LOG_CRIT
        }
    }

    static func facilityCode(_ name: String) -> Int32 {
        switch name {
        case "MAIL": LOG_MAIL
        case "USER": LOG_USER
        case "LOCAL0": LOG_LOCAL0
        case "LOCAL1": LOG_LOCAL1
        case "LOCAL2": LOG_LOCAL2
        case "LOCAL3": LOG_LOCAL3
        case "LOCAL4": LOG_LOCAL4
        case "LOCAL5": LOG_LOCAL5
        case "LOCAL6": LOG_LOCAL6
        case "LOCAL7": LOG_LOCAL7
        default: LOG_DAEMON
        }
    }
}
