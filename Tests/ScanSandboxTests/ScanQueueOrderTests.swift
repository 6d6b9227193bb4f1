import Foundation
import Synchronization
import Testing
@testable import ScanSandbox
import ThreatEngine

/// The scan queue serves a small request ahead of large ones, so that a message of a few
/// kilobytes is not held behind other messages' megabytes, and never starves the large ones.
@Suite("Scan queue: small requests first, large ones not starved")
struct ScanQueueOrderTests {
    final class Answers: Sendable {
        private let names = Mutex<[String]>([])
        func add(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    private func job(_ bytes: Int) -> RemoteScanJob {
        RemoteScanJob(descriptor: -1, spans: [PartSpan(name: nil)], bytes: bytes, limits: .default)
    }

    @Test("small jobs go ahead of waiting large ones, but a large one goes after every four small ones")
    func smallFirstWithoutStarvation() {
        let queue = RemoteScanQueue(slots: 1)
        defer { queue.close() }
        let large = (0..<3).map { _ in job(PartBatches.largePart) }
        let small = (0..<6).map { _ in job(PartBatches.largePart - 1) }
        var names: [ObjectIdentifier: String] = [:]
        for (index, job) in large.enumerated() { names[ObjectIdentifier(job)] = "L\(index)"; queue.submit(job) }
        for (index, job) in small.enumerated() { names[ObjectIdentifier(job)] = "S\(index)"; queue.submit(job) }
        #expect(queue.waitingCount == 9)
        let order = (0..<9).map { _ in queue.take().map { names[ObjectIdentifier($0)] ?? "?" } ?? "nil" }
        #expect(order == ["S0", "S1", "S2", "S3", "L0", "S4", "S5", "L1", "L2"])
        #expect(queue.waitingCount == 0)
    }

    @Test("small jobs taken while no large one waited do not count: a large one arriving then waits its four")
    func onlySmallJobsTakenWhileALargeWaitsCount() {
        let queue = RemoteScanQueue(slots: 1)
        defer { queue.close() }
        var names: [ObjectIdentifier: String] = [:]
        func submit(_ name: String, _ bytes: Int) {
            let job = job(bytes)
            names[ObjectIdentifier(job)] = name
            queue.submit(job)
        }
        func take() -> String { queue.take().map { names[ObjectIdentifier($0)] ?? "?" } ?? "nil" }
        for index in 0..<6 { submit("S\(index)", 100) }
        #expect((0..<6).map { _ in take() } == ["S0", "S1", "S2", "S3", "S4", "S5"])
        for index in 6..<12 { submit("S\(index)", 100) }
        submit("L0", 1 << 20)
        #expect((0..<7).map { _ in take() } == ["S6", "S7", "S8", "S9", "L0", "S10", "S11"])
    }

    @Test("with only large jobs (or only small ones) the order is first come, first served")
    func oneLaneIsFIFO() {
        let queue = RemoteScanQueue(slots: 1)
        defer { queue.close() }
        let jobs = (0..<5).map { _ in job(10 << 20) } + (0..<5).map { _ in job(10) }
        for job in jobs.prefix(5) { queue.submit(job) }
        #expect((0..<5).map { _ in queue.take() }.map { $0.map(ObjectIdentifier.init) } == jobs.prefix(5).map(ObjectIdentifier.init))
        for job in jobs.suffix(5) { queue.submit(job) }
        #expect((0..<5).map { _ in queue.take() }.map { $0.map(ObjectIdentifier.init) } == jobs.suffix(5).map(ObjectIdentifier.init))
    }

    @Test("through a real worker: a small part sent behind large ones is answered before them")
    func aSmallPartOvertakesQueuedLargeOnes() async throws {
        // One worker that takes a second per request: the order of the answers is the order
        // the queue handed the requests out.
        let scanner = try makeScanner(workers: 1, delayMilliseconds: 1000)
        _ = try await idleWorker(of: scanner)
        let answered = Answers()
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: PartBatches.largePart + 1)
        let first = Task { _ = await scanner.scan(bytes: big, name: "large-0"); answered.add("large-0") }
        _ = try await waitForWorker { scanner.busyWorkerPIDs.first }
        var queued: [Task<Void, Never>] = []
        for index in 1...3 {
            queued.append(Task { _ = await scanner.scan(bytes: big, name: "large-\(index)"); answered.add("large-\(index)") })
        }
        _ = try await waitForWorker { scanner.queuedRequests == 3 ? 1 : nil }
        let small = await scanner.scan(bytes: eicar, name: "small")
        answered.add("small")
        #expect(small.threats.count == 1, "the small part was scanned: \(small)")
        for task in [first] + queued { await task.value }
        let order = answered.all
        // First come, first served would answer it last. (At most one large request can have
        // started before the small one was queued, on a loaded machine.)
        let smallAt = try #require(order.firstIndex(of: "small"))
        #expect(smallAt < order.count - 1, "answers: \(order)")
        #expect(order.filter { $0 != "small" }.count == 4)
    }
}
