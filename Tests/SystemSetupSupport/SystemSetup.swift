import Foundation

/// Machine-wide state tests set up (system users, a shared cache of extracted packages,
/// network namespaces), made idempotent and safe when suites do it at the same moment, in
/// this test process or in another one (another worktree's `swift test`): one lock file
/// (flock) serialises the set-up steps, each step checks again under the lock whether it is
/// already done, and "already exists" counts as done.
public enum SystemSetup {
    public static let lockPath = "/tmp/moat-test-system-setup.lock"

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Runs `body` holding the machine-wide set-up lock. Blocking: call it from a thread of
    /// its own (or use `locked`), not from Swift's cooperative pool while a server under test
    /// needs it.
    public static func lockedBlocking<T>(_ body: () throws -> T) throws -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw Failure("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Failure("cannot lock \(lockPath): \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// `lockedBlocking` on a thread of its own, awaited.
    public static func locked<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try lockedBlocking(body) })
            }
        }
    }

    /// A system user without home or login shell. Already there is fine, also when another
    /// process made it meanwhile without taking the lock (useradd exits 9 then).
    public static func ensureSystemUser(_ name: String) async throws {
        try await locked { try ensureSystemUserLocked(name) }
    }

    /// The same, for a caller that already holds the lock.
    public static func ensureSystemUserLocked(_ name: String) throws {
        if getpwnam(name) != nil { return }
        let result = run("/usr/sbin/useradd", ["--system", "--no-create-home", "--home-dir", "/nonexistent",
                                               "--shell", "/usr/sbin/nologin", name])
        guard result.status == 0 || result.status == 9 || getpwnam(name) != nil else {
            throw Failure("cannot create the \(name) user: useradd exited \(result.status): \(result.output)")
        }
    }

    /// Runs a command to its end (output and error together).
    public static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A tiny tmpfs mounted for one test: a disk that fills up after `kilobytes` (ENOSPC in
/// the middle of a write, as on a full spool partition). Needs root; `remove()` unmounts it.
public final class FullDisk: @unchecked Sendable {
    public let path: String

    public init(kilobytes: Int = 64) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("moat-full-disk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = SystemSetup.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k,mode=0700", "tmpfs", path])
        guard result.status == 0 else {
            rmdir(path)
            throw SystemSetup.Failure("cannot mount a \(kilobytes) KB tmpfs on \(path) (root needed): \(result.output)")
        }
    }

    public func remove() {
        _ = SystemSetup.run("/bin/umount", ["-l", path])
        rmdir(path)
    }
}
