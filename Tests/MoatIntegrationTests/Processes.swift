import Foundation
import Testing

/// Runs the built `moatd` and `moat-ctl` as an administrator would.
enum Binaries {
    /// The test bundle sits in the build products folder, beside the executables.
    static var directory: URL {
        if let dir = ProcessInfo.processInfo.environment["MOAT_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("moatd").path) { return url }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug")
    }

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to its end and collects its output.
func run(_ executable: String, _ arguments: [String]) throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return RunResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                     stderr: String(decoding: stderr, as: UTF8.self))
}

func ctl(_ arguments: String..., config: String) throws -> RunResult {
    try run(Binaries.path("moat-ctl"), arguments + ["--config", config])
}

/// A scratch directory with a configuration whose control socket lives inside it.
struct Sandbox {
    let root: URL
    var config: String { root.appendingPathComponent("moat.ini").path }
    var socket: String { root.appendingPathComponent("run/moat-ctl.sock").path }
    var log: String { root.appendingPathComponent("moatd.log").path }

    /// The console listens on this port when given (state in `var/`); otherwise it is off,
    /// so that daemons of tests running side by side do not compete for 127.0.0.1:4443.
    let consolePort: Int?

    init(extra: String = "", consolePort: Int? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("moat-it-\(UUID().uuidString)")
        self.consolePort = consolePort
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // VarDir is always the sandbox's own: daemons of tests side by side never share a CA,
        // a spool or the VarDir lock (a shared /var/lib/moat made them depend on each other).
        // TempDir too: the default /run/moat/tmp is shared by every moatd on the machine.
        let console = "VarDir = \(root.path)/var\nTempDir = \(root.path)/tmp\n" + (consolePort.map { "\n[HTTPD]\nAdminListen = 127.0.0.1:\($0)\n" }
            ?? "\n[HTTPD]\nAdminListen =\n")
        let text = """
            # integration test configuration
            [Root]
            ControlSocket = \(root.appendingPathComponent("run/moat-ctl.sock").path)
            LogLevel = Info
            \(console)
            [MailD]
            # languages of reports
            ReportLanguages = en
            \(extra)
            """
        try text.write(toFile: root.appendingPathComponent("moat.ini").path, atomically: true, encoding: .utf8)
    }

    func write(_ text: String) throws { try text.write(toFile: config, atomically: true, encoding: .utf8) }
    func read() throws -> String { try String(contentsOfFile: config, encoding: .utf8) }
    func remove() { try? FileManager.default.removeItem(at: root) }
}

/// A running moatd; stopped with SIGTERM at the end of the test if still alive.
final class Daemon {
    let process = Process()
    let sandbox: Sandbox

    /// `namespace`: a network namespace to run in (`ip netns exec` replaces itself with
    /// moatd, so the process is moatd's).
    init(_ sandbox: Sandbox, namespace: String? = nil) throws {
        self.sandbox = sandbox
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, Binaries.path("moatd"), "--config", sandbox.config]
        } else {
            process.executableURL = URL(fileURLWithPath: Binaries.path("moatd"))
            process.arguments = ["--config", sandbox.config]
        }
        FileManager.default.createFile(atPath: sandbox.log, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: sandbox.log))
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// Waits until moat-ctl gets an answer (the socket is up).
    func waitUntilAnswering() throws {
        for _ in 0..<100 {
            if try ctl("appinfo", config: sandbox.config).status == 0 { return }
            if !process.isRunning { break }
            usleep(100_000)
        }
        Issue.record("moatd did not answer; log:\n\(log)")
        throw CancellationError()
    }

    var log: String { (try? String(contentsOfFile: sandbox.log, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to end; nil when it did not within the time.
    func waitForExit(seconds: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    func generation() throws -> Int {
        let result = try ctl("appinfo", "--json", config: sandbox.config)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return object?["settingsGeneration"] as? Int ?? -1
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
