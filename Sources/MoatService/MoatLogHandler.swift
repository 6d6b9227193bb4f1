import Foundation
import Logging
import MoatConfig

/// One handler per logger label; the level and destination are looked up on each message so
/// that a reload applies at once.
public struct MoatLogHandler: LogHandler {
    let label: String
    let routing: LogRouting
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, routing: LogRouting) {
        self.label = label
        self.routing = routing
    }

    public var logLevel: Logger.Level {
        get { routing.route(for: label).level }
        set { /* levels come from the configuration only */ }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let route = routing.route(for: label)
        guard event.level >= route.level else { return }
        var all = metadata
        // The handler's own metadata is usually empty: taking the event's as it is saves a
        // dictionary rebuilt per line (a third of the verdict line's cost, callgrind).
        if let extra = event.metadata { if all.isEmpty { all = extra } else { all.merge(extra) { $1 } } }
        // The message and every field may quote a peer or a message (a host name, an address,
        // a header, an error text): escaped here too, so no component can write a line break,
        // a terminal escape or a bidi override into the log, whatever it forgot.
        // One string appended to (not fields mapped, joined and concatenated): a verdict line
        // has a dozen fields.
        var text = "["
        text.reserveCapacity(384)
        text += LogText.escape(label, maxLength: 64)
        text += "] "
        text += Self.levelName(event.level)
        text += ": "
        text += LogText.escape(event.message.description, maxLength: 4096)
        for (key, value) in all.sorted(by: { $0.key < $1.key }) {
            text += " "
            text += LogText.escape(key, maxLength: 64)
            text += "="
            text += LogText.escape(value.description, maxLength: 2048)
        }
        LogSink.shared.write(text, level: event.level, to: route.target)
    }

    static func levelName(_ level: Logger.Level) -> String {
        switch level {
        case .trace: "TRACE"
        case .debug: "DEBUG"
        case .info: "INFO"
        case .notice: "NOTICE"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }
}
