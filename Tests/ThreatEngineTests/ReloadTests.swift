import Foundation
import Testing
@testable import ThreatEngine

@Suite struct ReloadTests {
    @Test func reloadSwapsEnginesWhileAScanRuns() async throws {
        let scanner = try Fixture.scanner(limits: ScanLimits(scanTimeout: .seconds(60)))
        weak let oldEngine = scanner.currentEngine
        #expect(oldEngine != nil)

        // A scan that stays inside libclamav until we let it go.
        let fifo = try FIFO()
        let inFlight = Task { await scanner.scan(fileAt: fifo.path) }
        // Give the worker time to enter libclamav; the assertions below hold even if it has not,
        // because a scan takes its engine when it is submitted, not when it starts.
        try await Task.sleep(for: .milliseconds(200))

        try await scanner.reload()
        #expect(scanner.signatureInfo.generation == 2)
        #expect(scanner.currentEngine !== oldEngine)
        #expect(oldEngine != nil, "the running scan keeps the old engine alive")

        // New scans use the new engine while the old scan is still running.
        #expect(await scanner.scan(bytes: Fixture.eicarBytes).threats.map(\.name) == ["Moat.Test.EICAR"])

        fifo.release()
        let result = await inFlight.value
        #expect(result != .unchecked(.timeout))

        // Once the scan is over nothing holds the old engine: it is freed (cl_engine_free).
        let end = ContinuousClock.now + .seconds(5)
        while oldEngine != nil, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(10)) }
        #expect(oldEngine == nil)
    }

    @Test func reloadCanChangeEngineLimits() async throws {
        let scanner = try Fixture.scanner()
        try await scanner.reload(limits: ScanLimits(scanTimeout: .seconds(5)))
        #expect(scanner.limits.scanTimeout == .seconds(5))
        #expect(scanner.signatureInfo.usingBuiltinSignatures)
    }

    @Test func concurrentScansAllAnswer() async throws {
        let scanner = try Fixture.scanner(maxConcurrentScans: 2)
        let results = await withTaskGroup(of: ScanResult.self) { group in
            for index in 0..<20 {
                group.addTask {
                    index.isMultiple(of: 2)
                        ? await scanner.scan(bytes: Fixture.eicarBytes)
                        : await scanner.scan(bytes: Array("clean \(index)".utf8))
                }
            }
            return await group.reduce(into: [ScanResult]()) { $0.append($1) }
        }
        #expect(results.filter { $0 == .clean }.count == 10)
        #expect(results.filter { !$0.threats.isEmpty }.count == 10)
    }
}

@Suite struct LifetimeTests {
    @Test func scannerIsReleasedAfterScanning() async throws {
        var scanner: ThreatScanner? = try Fixture.scanner()
        weak let released = scanner
        #expect(await scanner?.scan(bytes: Fixture.eicarBytes).threats.count == 1)
        scanner = nil
        // No cycle through the worker threads or the deadline task: deinit runs and stops the pool.
        let end = ContinuousClock.now + .seconds(5)
        while released != nil, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(10)) }
        #expect(released == nil)
    }
}
