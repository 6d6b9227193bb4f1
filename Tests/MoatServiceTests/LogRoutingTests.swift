import Foundation
import Logging
import MoatConfig
import Testing
@testable import MoatService

/// Each component's level and destination, from its section or `[Root]`.
struct LogRoutingTests {
    @Test func componentsInheritFromRootUnlessSet() throws {
        let routing = LogRouting()
        routing.apply(try settings("""
            [Root]
            DefaultLogLevel = Warning
            LogLevel = Info
            Log = Syslog:MAIL
            [MailD]
            LogLevel = Debug
            [ClamD]
            Log = /var/log/moat-clamd.log
            """))
        #expect(routing.route(for: "moatd").level == .info)
        #expect(routing.route(for: "moatd").target == .syslog(facility: "MAIL"))
        #expect(routing.route(for: "MailD").level == .debug)
        #expect(routing.route(for: "MailD").target == .syslog(facility: "MAIL"))
        #expect(routing.route(for: "ClamD").level == .warning)
        #expect(routing.route(for: "ClamD").target == .file(path: "/var/log/moat-clamd.log"))
        // A label without a section of its own (Gate, MailD.Milter) takes the defaults.
        #expect(routing.route(for: "Gate").level == .warning)
        #expect(routing.route(for: "Gate").target == .syslog(facility: "MAIL"))
    }

    @Test func reloadReplacesTheRoutes() throws {
        let routing = LogRouting()
        routing.apply(try settings("[HTTPD]\nLogLevel = Error\n"))
        #expect(routing.route(for: "HTTPD").level == .error)
        routing.apply(try settings(""))
        #expect(routing.route(for: "HTTPD").level == .notice)
    }
}

/// The line the daemon's handler writes: label, level, message, the fields sorted by name,
/// each escaped, after the time stamp.
@Suite struct MoatLogHandlerTests {
    @Test func aLineHasItsFieldsSortedAndEscaped() throws {
        let directory = NSTemporaryDirectory() + "moat-log-handler-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/moat.log"
        let routing = LogRouting()
        routing.apply(try settings("[Root]\nLog = \(path)\nLogLevel = Info\n"))
        var logger = Logger(label: "MailD") { MoatLogHandler(label: $0, routing: routing) }
        logger[metadataKey: "peer"] = "192.0.2.1"
        logger.notice("verdict\nforged", metadata: ["to": "b@example.org", "action": "pass", "reason": "a\u{1B}[2J"])
        logger.debug("not written")
        logger.warning("second")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        // `2026-12-07T09:30:00Z ` and then the line.
        #expect(lines.first?.dropFirst(21) == #"[MailD] NOTICE: verdict\nforged action=pass peer=192.0.2.1 reason=a\e[2J to=b@example.org"#)
        #expect(lines.last?.dropFirst(21) == "[MailD] WARNING: second peer=192.0.2.1")
    }
}

/// The time stamp of lines written to a file or a terminal.
@Suite struct LogTimestampTests {
    @Test func isISO8601InUTC() {
        #expect(LogSink.timestamp(0) == "1970-01-01T00:00:00Z")
        #expect(LogSink.timestamp(1_796_577_005) == "2026-12-06T17:10:05Z")
        #expect(LogSink.timestamp(951_868_799) == "2000-02-29T23:59:59Z")
        #expect(LogSink.timestamp(1_796_577_005) == Date(timeIntervalSince1970: 1_796_577_005).formatted(.iso8601),
                "as Foundation's ISO 8601 format wrote it")
    }
}
