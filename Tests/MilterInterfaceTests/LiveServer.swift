import Foundation
import Logging
import MailD
@testable import MilterInterface
import NIOCore
import NIOPosix

/// A Milter listener on a loopback port, run by the test itself, with a log the test can read.
final class LiveServer: @unchecked Sendable {
    let channel: any Channel
    let port: Int
    let spool: String
    let log: LogCollector

    init(profile: CheckProfile = Support.profile(), options: MilterInterface.Options = MilterInterface.Options(),
         address: String = "127.0.0.1", spoolDirectory: String? = nil, coreSpool: String? = nil,
         core givenCore: MailCore? = nil) async throws {
        spool = try spoolDirectory ?? Support.temporaryDirectory("moat-milter-spool")
        // The engine loads once per test process; do it before anything is timed.
        _ = await Support.core(spool: spool).decide(envelope: Envelope(source: .milter), message: .bytes(Array("Subject: warm-up\r\n\r\nx\r\n".utf8)), profile: profile)
        log = LogCollector()
        let collector = log
        let logger = Logger(label: "MailD.Milter") { _ in collector }
        let listener = MilterInterface.listener(address: .tcp(host: address, port: 0), profile: { profile },
                                                core: givenCore ?? Support.core(spool: coreSpool ?? spool), spoolDirectory: spool,
                                                group: Support.mailLoops, logger: logger, options: options)
        channel = try await listener.bind()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async {
        try? await channel.close()
        try? FileManager.default.removeItem(atPath: spool)
    }
}

/// Log lines kept in memory. A value, as a LogHandler must be: each logger (each connection
/// sets its own `peer` metadata) has its own metadata, and only the lines are shared. (A
/// class here had every connection's event loop write one dictionary at once, and crashed.)
struct LogCollector: LogHandler, Sendable {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [String] = []
        func append(_ line: String) { lock.withLock { stored.append(line) } }
        var all: [String] { lock.withLock { stored } }
    }

    let storage = Lines()
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
        let text = "\(event.level) \(event.message)" + (all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        storage.append(text)
    }

    var lines: [String] { storage.all }
}

struct ToolResult {
    var status: Int32
    var output: String
}

/// Runs a tool to its end, output and error together.
func runTool(_ path: String, _ arguments: [String], input: String? = nil, timeout: TimeInterval = 120) throws -> ToolResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    let inputPipe = Pipe()
    process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
    try process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(Data(input.utf8))
        try? inputPipe.fileHandleForWriting.close()
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning, Date() < deadline { usleep(10_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return ToolResult(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
}

/// Runs blocking work (a child process, a blocking socket) on a thread of its own: on the
/// cooperative pool (2 threads on a 2-core machine) it would starve the checks it waits for.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
