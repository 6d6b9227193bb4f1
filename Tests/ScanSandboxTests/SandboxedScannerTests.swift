import Foundation
import Testing
@testable import ScanSandbox
import ThreatEngine

@Suite("Sandboxed scanner: libclamav in worker processes")
struct SandboxedScannerTests {
    @Test("a part in memory and a file are scanned by a worker, with verdicts as in-process")
    func scansThroughWorkers() async throws {
        let scanner = try makeScanner(workers: 2)
        #expect(scanner.signatureInfo.usingBuiltinSignatures)
        let threat = await scanner.scan(bytes: eicar, name: "eicar.com")
        #expect(threat.threats.map(\.name).contains { $0.uppercased().contains("EICAR") }, "got \(threat)")
        #expect(await scanner.scan(bytes: Array("just a letter\n".utf8)) == .clean)

        let path = NSTemporaryDirectory() + "moat-sandbox-eicar-\(UUID().uuidString)"
        try Data(eicar).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(await scanner.scan(fileAt: path).threats.count == 1)
        #expect(scanner.workerPIDs.allSatisfy { $0 != getpid() && $0 != scanner.supervisorPID })
    }

    @Test("a worker whose scratch directory vanished answers unchecked, never clean")
    func scratchGoneIsUnchecked() async throws {
        let scanner = try makeScanner()
        try FileManager.default.removeItem(atPath: scanner.scratchDirectoryForTests)
        let result = await scanner.scan(bytes: eicar, name: "eicar.com")
        guard case .unchecked(.engineError) = result else {
            Issue.record("expected an engine error, got \(result)")
            return
        }
    }

    @Test("many scans at once all get their own answer")
    func concurrentScans() async throws {
        let scanner = try makeScanner(workers: 2)
        let results = await withTaskGroup(of: (Int, ScanResult).self) { group in
            for index in 0..<40 {
                group.addTask {
                    let content = index % 2 == 0 ? eicar : Array("clean part \(index)\n".utf8)
                    return (index, await scanner.scan(bytes: content))
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        for (index, result) in results {
            #expect(index % 2 == 0 ? result.threats.count == 1 : result == .clean, "part \(index): \(result)")
        }
    }

    @Test("a worker killed mid-scan: that part is unchecked, the next one is scanned by a new worker")
    func workerKilledMidScan() async throws {
        // Every scan takes 8 s in this test's workers: the kill lands while the first one runs.
        let scanner = try makeScanner(delayMilliseconds: 8000)
        async let first = scanner.scan(bytes: eicar)
        let victim = try await killBusyWorker(of: scanner)
        let result = await first
        guard case .unchecked(.engineError(let detail)) = result else {
            Issue.record("expected an engine failure, got \(result)")
            return
        }
        #expect(detail.contains("SIGKILL"), "\(detail)")
        let next = await scanner.scan(bytes: eicar)
        #expect(next.threats.count == 1, "the next part: \(next)")
        let replacement = try #require(scanner.workerPIDs.first)
        #expect(replacement != victim)
        #expect(!processExists(victim))
    }

    @Test("a worker past the scan deadline is killed at it and replaced; the part is unchecked (timeout)")
    func deadlineKillsWorker() async throws {
        var short = ScanLimits.default
        short.scanTimeout = .seconds(3)
        let scanner = try makeScanner(limits: short, delayMilliseconds: 20000)
        let victim = try await idleWorker(of: scanner)
        // A timeout answer with the worker dead: it was killed at the deadline. Had it run its
        // 20 s scan to the end, the answer would have been its threat. (No wall-clock check:
        // a loaded suite can resume this task long after the answer.)
        #expect(await scanner.scan(bytes: eicar) == .unchecked(.timeout))
        #expect(!processExists(victim), "the stuck worker was killed")

        var generous = ScanLimits.default
        generous.scanTimeout = .seconds(40)
        let next = await scanner.scan(bytes: eicar, limits: generous)
        #expect(next.threats.count == 1, "the next part: \(next)")
    }

    @Test("a part queued behind a busy worker is answered unchecked (timeout) at its deadline, while the worker still scans")
    func queuedPartTimesOutBehindABusyWorker() async throws {
        var long = ScanLimits.default
        long.scanTimeout = .seconds(120)
        let scanner = try makeScanner(limits: long, delayMilliseconds: 60000)
        _ = try await idleWorker(of: scanner)
        let first = Task { await scanner.scan(bytes: eicar) }
        let busy = try await waitForWorker { scanner.busyWorkerPIDs.first }
        var short = ScanLimits.default
        short.scanTimeout = .seconds(2)
        // The only worker sleeps 60 s in its first scan: the second part never reaches it, and
        // only the queue's deadline can answer it. (No wall-clock check: the worker still busy
        // with the first part shows the answer came from the queue, long before 60 s.)
        #expect(await scanner.scan(bytes: eicar, limits: short) == .unchecked(.timeout))
        #expect(scanner.busyWorkerPIDs == [busy], "the first part is still being scanned")
        first.cancel()
        #expect(await first.value == .unchecked(.engineError("scan cancelled")))
    }

    @Test("a message that crashes every worker: each scan of it is unchecked, the others are scanned, no spinning")
    func poisonedContentCrashesWorkers() async throws {
        let scanner = try makeScanner(crashPrefix: "POISON")
        for _ in 0..<5 {
            let result = await scanner.scan(bytes: Array("POISON attachment".utf8))
            guard case .unchecked(.engineError(let detail)) = result else {
                Issue.record("expected an engine failure, got \(result)")
                return
            }
            #expect(detail.contains("SIGSEGV"), "\(detail)")
        }
        // After five deaths in a row the slot waits before forking again, yet still answers.
        #expect(await scanner.scan(bytes: eicar).threats.count == 1)
        #expect(await scanner.scan(bytes: Array("a clean part".utf8)) == .clean)
    }

    @Test("a message's parts scanned together keep their own verdicts, in order")
    func partsOfAMessageKeepTheirVerdicts() async throws {
        let scanner = try makeScanner(workers: 2)
        let clean = Array("a clean part\n".utf8)
        let large = [UInt8](repeating: 0x41, count: PartBatches.largePart) + eicar
        let parts = [ScanPart(bytes: clean), ScanPart(bytes: eicar, name: "eicar.com"), ScanPart(bytes: []),
                     ScanPart(bytes: large), ScanPart(bytes: clean), ScanPart(bytes: Array(clean.reversed()) + eicar)]
        let results = await scanner.scan(parts: parts, limits: nil)
        #expect(results.map { $0.threats.count } == [0, 1, 0, 1, 0, 1], "\(results)")
        #expect(results[0] == .clean && results[2] == .clean && results[4] == .clean)
    }

    @Test("a part that kills the worker costs its own verdict only: the parts after it are scanned by a new worker")
    func aCrashInABatchCostsOnePart() async throws {
        let scanner = try makeScanner(crashPrefix: "POISON")
        let parts = [ScanPart(bytes: eicar), ScanPart(bytes: Array("POISON attachment".utf8)),
                     ScanPart(bytes: Array("a clean part".utf8)), ScanPart(bytes: eicar)]
        let results = await scanner.scan(parts: parts, limits: nil)
        #expect(results.count == 4)
        #expect(results[0].threats.count == 1, "the verdict before the crash stands: \(results[0])")
        guard case .unchecked(.engineError(let detail)) = results[1] else {
            Issue.record("expected an engine failure for the poisoned part, got \(results[1])")
            return
        }
        #expect(detail.contains("SIGSEGV"), "\(detail)")
        #expect(results[2] == .clean && results[3].threats.count == 1, "\(results)")
    }

    @Test("a reload retires the workers of the old engine once their scans end")
    func reloadRetiresWorkers() async throws {
        let scanner = try makeScanner()
        #expect(await scanner.scan(bytes: eicar).threats.count == 1)
        let old = try #require(scanner.workerPIDs.first)
        #expect(scanner.signatureInfo.generation == 1)
        try await scanner.reload()
        #expect(scanner.signatureInfo.generation == 2)
        #expect(await scanner.scan(bytes: eicar).threats.count == 1)
        let new = try #require(scanner.workerPIDs.first)
        #expect(new != old)
        #expect(!processExists(old))
    }

    @Test("if the supervisor dies (its workers with it), a new supervisor takes over")
    func supervisorGone() async throws {
        let scanner = try makeScanner()
        let first = scanner.supervisorPID
        let worker = try await idleWorker(of: scanner)
        kill(first, SIGKILL)
        for _ in 0..<100 where processExists(worker) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!processExists(worker), "a worker dies with its supervisor")
        // Parts are answered meanwhile (unchecked), and scanned again once a new one is up.
        var next = await scanner.scan(bytes: eicar)
        for _ in 0..<20 where next.threats.isEmpty {
            try await Task.sleep(for: .milliseconds(200))
            next = await scanner.scan(bytes: eicar)
        }
        #expect(next.threats.count == 1, "\(next)")
        #expect(scanner.supervisorPID != first)
    }
}
