import Foundation

/// `[Root] PidFile`: written at start, removed at a clean stop.
struct PidFile {
    let path: String

    func write() throws {
        try "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    func remove() {
        unlink(path)
    }
}
