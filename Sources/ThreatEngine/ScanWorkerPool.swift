import Dispatch
import Foundation
import Synchronization

/// Dedicated threads that run libclamav's blocking scans, so neither SwiftNIO's event loops nor
/// Swift concurrency's cooperative pool ever block in C. The number of threads bounds how many
/// scans run at once (by default one per core); further scans wait in FIFO order.
///
/// A worker stuck in libclamav past a scan's deadline is abandoned: it leaves the pool when
/// libclamav finally returns, and a replacement thread keeps the pool at full strength. At most
/// `maxAbandoned` threads may be stuck at once, after that the pool shrinks instead of growing
/// without bound (each stuck thread also holds an engine alive).
final class ScanWorkerPool: Sendable {
    struct State {
        var queue: [ScanJob?] = []
        var head = 0
        var shuttingDown = false
        var abandoned = 0
    }

    let workerCount: Int
    let maxAbandoned: Int
    private let state = Mutex(State())
    /// Counts queued jobs (plus wake-ups at shutdown); workers sleep on it.
    private let available = DispatchSemaphore(value: 0)

    /// libclamav recurses per nested layer; give its threads a full-size stack.
    static let workerStackSize = 8 << 20

    init(workerCount: Int) {
        self.workerCount = max(1, workerCount)
        self.maxAbandoned = 4 * self.workerCount
        for index in 0..<self.workerCount { startWorker(name: "moat-scan-\(index)") }
    }

    /// Lets the workers go once the owning scanner is gone. Workers retain the pool, so this
    /// must be called explicitly (from `ThreatScanner.deinit`). No job can be queued then: a
    /// waiting caller keeps its scanner alive. A worker stuck in libclamav leaves when it returns.
    func shutdown() {
        state.withLock { $0.shuttingDown = true }
        for _ in 0..<(workerCount + maxAbandoned) { available.signal() }
    }

    func submit(_ job: ScanJob) {
        state.withLock { $0.queue.append(job) }
        available.signal()
    }

    /// Called when a deadline hit a running job: that job's thread is lost until libclamav
    /// returns, so start another one.
    func workerAbandoned() {
        let replace = state.withLock { state -> Bool in
            guard !state.shuttingDown, state.abandoned < maxAbandoned else { return false }
            state.abandoned += 1
            return true
        }
        if replace { startWorker(name: "moat-scan-replacement") }
    }

    private func startWorker(name: String) {
        let thread = Thread { [self] in workLoop() }
        thread.name = name
        thread.stackSize = Self.workerStackSize
        thread.start()
    }

    private func workLoop() {
        while true {
            available.wait()
            let job = state.withLock { state -> ScanJob? in
                guard state.head < state.queue.count else { return nil }
                // Take the job out of the queue for real: a finished job still referenced here
                // would keep its engine (and, after a reload, a whole signature set) alive.
                let job = state.queue[state.head].take()
                state.head += 1
                if state.head == state.queue.count {
                    state.queue.removeAll(keepingCapacity: true)
                    state.head = 0
                } else if state.head > 64, state.head * 2 > state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                return job
            }
            guard let job else {
                if state.withLock({ $0.shuttingDown }) { return }
                continue
            }
            if job.run() {
                // Abandoned: a replacement already took this thread's place.
                state.withLock { $0.abandoned -= 1 }
                return
            }
        }
    }
}
