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

/// Waits until `pick` finds a worker, polling from a thread of its own: the cooperative pool
/// can be starved for seconds when the whole suite runs on two cores. `then` runs on that
/// thread at once (a kill must land while the worker is still busy, not when the test resumes).
func waitForWorker(then act: @escaping @Sendable (pid_t) -> Void = { _ in },
                   _ pick: @escaping @Sendable () -> pid_t?) async throws -> pid_t {
    let found: pid_t? = await withCheckedContinuation { continuation in
        Thread {
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline {
                if let pid = pick() {
                    act(pid)
                    return continuation.resume(returning: pid)
                }
                usleep(5_000)
            }
            continuation.resume(returning: nil)
        }.start()
    }
    guard let found else { throw NoBusyWorker() }
    return found
}

/// Kills the first worker seen with a scan in hand, as soon as it is seen.
func killBusyWorker(of scanner: SandboxedScanner) async throws -> pid_t {
    try await waitForWorker(then: { kill($0, SIGKILL) }) { scanner.busyWorkerPIDs.first }
}

/// The worker of the (only) slot, forked when the scanner starts.
func idleWorker(of scanner: SandboxedScanner) async throws -> pid_t {
    try await waitForWorker { scanner.workerPIDs.first }
}

func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0
}

var runningAsRoot: Bool { geteuid() == 0 }
