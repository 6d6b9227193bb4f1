import Foundation
import Logging
import MailD
import ScanSandbox
import Testing
import ThreatEngine
@testable import MilterInterface

/// Real Postfix through Moat's milter, with libclamav in real sandboxed worker processes
/// (`moat-scan`): a worker killed in the middle of a scan costs only that message, which
/// BlockUnchecked decides, and the next message is scanned by a fresh worker.
@Suite("Postfix + sandboxed scan workers", .serialized)
struct SandboxedWorkerPostfixTests {
    typealias S = Support

    @Test(arguments: [true, false])
    func workerKilledMidScan(block: Bool) async throws {
        let log = LogCollector()
        let executable = try #require(ScanWorkerExecutable.locate(), "moat-scan is built beside the tests")
        var configuration = SandboxConfiguration(
            signatureDirectory: "/nonexistent-moat-test-signatures", limits: .default,
            scratchDirectory: NSTemporaryDirectory() + "moat-milter-sandbox-\(UUID().uuidString)")
        // Every scan takes 8 s in this test's worker: the kill lands while the first one runs.
        configuration.testScanDelayMilliseconds = 8000
        let scanner = try SandboxedScanner(configuration: configuration, executable: executable, workerCount: 1,
                                           logger: Logger(label: "ThreatEngine") { _ in log })
        let coreSpool = try S.temporaryDirectory("moat-milter-sandbox-core")
        defer { try? FileManager.default.removeItem(atPath: coreSpool) }
        let server = try await LiveServer(profile: S.profile(blockUnchecked: block),
                                          core: MailCore(scanner: scanner, spoolDirectory: coreSpool))
        let postfix = try await PrivatePostfix.start(milterPort: server.port)
        defer { postfix.stop() }

        async let sending = postfix.send(PostfixTests.clean)
        let victim = try await Self.killBusyWorker(of: scanner)
        let result = try await sending
        if block {
            #expect(result.status != 0)
            #expect(result.output.contains("451 4.7.1"), "\(result.output)")
            #expect(await postfix.delivered(seconds: 1).isEmpty)
        } else {
            #expect(result.status == 0, "\(result.output)")
            #expect(await postfix.delivered().count == 1)
        }
        #expect(log.lines.contains { $0.contains("scan worker \(victim) died during a scan") && $0.contains("SIGKILL") },
                "\(log.lines)")

        // The next message is scanned, by another worker.
        let infected = try await postfix.send(PostfixTests.eicar("after-kill-\(block)"))
        #expect(infected.output.contains("550 5.7.1 The message contains a THREAT"), "\(infected.output)")
        #expect(scanner.workerPIDs.first != victim)
        await server.stop()
    }

    /// The worker of the only slot, once it has a scan in hand (generous: a loaded machine
    /// may take seconds to get there).
    /// Polls from a thread of its own: the cooperative pool can be starved for seconds when the
    /// whole suite runs on two cores.
    /// The kill is sent from the polling thread at once: the test task may resume seconds later.
    static func killBusyWorker(of scanner: SandboxedScanner) async throws -> pid_t {
        let found: pid_t? = await withCheckedContinuation { continuation in
            Thread {
                let deadline = Date().addingTimeInterval(120)
                while Date() < deadline {
                    if let pid = scanner.busyWorkerPIDs.first {
                        kill(pid, SIGKILL)
                        return continuation.resume(returning: pid)
                    }
                    usleep(5_000)
                }
                continuation.resume(returning: nil)
            }.start()
        }
        guard let found else { throw CancellationError() }
        return found
    }
}
