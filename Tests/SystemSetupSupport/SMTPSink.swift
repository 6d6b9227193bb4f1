import Foundation

/// Postfix's smtp-sink on a loopback port: a real SMTP server that writes each message it
/// accepts to a file (its envelope as X- header lines, then the DATA as received, LF line
/// ends, dots not unstuffed). Run as nobody; stopped by its PID.
public final class SMTPSink: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let process: Process

    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink") else {
            throw SystemSetup.Failure("smtp-sink is missing: install the packages in scripts/deps/storage.txt")
        }
        directory = NSTemporaryDirectory() + "moat-sink-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o777)
        port = try PrivatePostgres.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
        process.arguments = ["-u", "nobody", "-d", directory + "/%Y%m%d%H%M%S.", "127.0.0.1:\(port)", "10"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        while !PrivatePostgres.canConnect(port: port) {
            guard process.isRunning, Date() < deadline else { throw SystemSetup.Failure("smtp-sink did not listen on \(port)") }
            usleep(50_000)
        }
    }

    /// The messages received so far, oldest first.
    public func messages() -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
    }

    /// smtp-sink does not stop on SIGTERM: SIGKILL, then a bounded wait (never
    /// `waitUntilExit`, whose run loop can hang on the cooperative pool).
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
