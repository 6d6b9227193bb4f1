import Foundation
import Logging
@testable import ScanSandbox
import ThreatEngine

let eicar = Array(#"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#.utf8)

struct NoWorkerExecutable: Error {}

/// A sandboxed scanner on Moat's built-in test signatures, with a scratch directory of its own.
func makeScanner(workers: Int = 1, limits: ScanLimits = .default, delayMilliseconds: UInt32 = 0,
                 masked: [String] = [], crashPrefix: String = "") throws -> SandboxedScanner {
    guard let executable = ScanWorkerExecutable.locate() else { throw NoWorkerExecutable() }
    var configuration = SandboxConfiguration(
        signatureDirectory: "/nonexistent/moat-test-signatures", limits: limits,
        scratchDirectory: NSTemporaryDirectory() + "moat-scan-test-\(UUID().uuidString)", maskedPaths: masked)
    configuration.testScanDelayMilliseconds = delayMilliseconds
    configuration.testCrashPrefix = Array(crashPrefix.utf8)
    return try SandboxedScanner(configuration: configuration, executable: executable, workerCount: workers,
                                logger: Logger(label: "ScanSandboxTests"))
}

struct NoBusyWorker: Error {}

/// Waits (polling) until a worker has a scan in hand, and returns it. Generous: a loaded
/// machine may take seconds to get there.
func busyWorker(of scanner: SandboxedScanner) async throws -> pid_t {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        if let pid = scanner.busyWorkerPIDs.first { return pid }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw NoBusyWorker()
}

func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0
}

var runningAsRoot: Bool { geteuid() == 0 }
