import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real moatd running in a test's gateway namespace with the test's configuration, its
/// output in a log file; ready once the divert is installed and the Gate listens on 20025.
final class GatewayMoatd {
    let process = Process()
    let logPath: String
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    init(binary: String, namespace: TestNamespace, config: String, log logPath: String) throws {
        self.logPath = logPath
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        // `ip netns exec` execs moatd itself: this process's pid is moatd's.
        process.arguments = ["netns", "exec", namespace.name, binary, "--config", config]
        try? FileManager.default.removeItem(atPath: logPath)
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var ready = false
        while Date() < deadline, process.isRunning, !ready {
            let listening = (try? namespace.exec("/usr/bin/ss", "-ltnH")) ?? ""
            ready = log.contains("divert installed") && listening.contains(":20025 ")
            if !ready { usleep(200_000) }
        }
        guard ready else {
            let text = log
            stop()
            throw GateTestFailure("moatd did not start the divert and the Gate; log:\n\(text)")
        }
    }

    /// SIGTERM, and wait.
    func stop() {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
    }

    /// SIGKILL, as a crash would, and wait.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    deinit { stop() }
}
