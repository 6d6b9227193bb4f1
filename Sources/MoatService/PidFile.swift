import Foundation
import MoatConfig

/// `[Root] PidFile`: written at start, removed at a clean stop.
public struct PidFile: Sendable {
    public let path: String

    /// `[Root] PidFile`, nil when empty (systemd needs none).
    public init?(_ values: ConfigValues) {
        let path = values.root.pidFile
        guard !path.isEmpty else { return nil }
        self.path = path
    }

    public func write() throws {
        try "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    public func remove() {
        unlink(path)
    }
}
