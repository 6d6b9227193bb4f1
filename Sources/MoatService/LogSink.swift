import Foundation
import Logging
import MoatConfig
import Synchronization

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
                if open[path] == nil { open[path] = Self.openAppending(path) }
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

    /// Opens the file now (moatd, as root, before it runs as `[Root] User`), so lines keep
    /// reaching it whoever owns it; it stays open for the life of the process.
    func open(_ path: String) {
        files.withLock { open in
            if open[path] == nil { open[path] = Self.openAppending(path) }
        }
    }

    /// Appending (O_APPEND): after logrotate's copytruncate the next line lands at the start of
    /// the emptied file, not at the old offset behind a hole. Created 0640.
    private static func openAppending(_ path: String) -> FileHandle? {
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        return fd < 0 ? nil : FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    static let underJournal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil

    /// `2026-12-06T17:30:00Z`, as `Date().formatted(.iso8601)` wrote it, from gmtime_r: that
    /// formatter cost as much as the rest of a verdict line.
    static func timestamp(_ seconds: time_t = time(nil)) -> String {
        var now = seconds
        var t = tm()
        gmtime_r(&now, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(t.tm_year + 1900)-\(two(t.tm_mon + 1))-\(two(t.tm_mday))T\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec))Z"
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
