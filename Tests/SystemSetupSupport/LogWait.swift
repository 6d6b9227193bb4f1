import Foundation

/// Waiting for a line in a daemon's log file. Postfix's postlogd (and other log writers) write a
/// line behind the protocol answer it records: a test that reads the log once, right after the
/// answer, can find it not there yet.
public enum LogWait {
    /// Whether the file at `path` holds `text` within `seconds`.
    public static func contains(_ text: String, inFileAt path: String, seconds: Double = 15) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !read(path).contains(text) {
            guard Date() < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return true
    }

    /// The same for synchronous tests.
    public static func containsBlocking(_ text: String, inFileAt path: String, seconds: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !read(path).contains(text) {
            guard Date() < deadline else { return false }
            usleep(100_000)
        }
        return true
    }

    private static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
