import Foundation
import Synchronization
import ThreatEngine

/// One scan waiting for, or running in, a worker process, and the single place its answer is
/// delivered. The slot that runs it, the outer deadline and the caller's cancellation race to
/// answer; the first wins, the others find it settled.
final class RemoteScanJob: Sendable {
    struct State {
        var settled = false
        var continuation: CheckedContinuation<ScanResult, Never>?
        var early: ScanResult?
        /// The content to scan, owned by the job until a slot takes it.
        var descriptor: Int32
    }

    let name: String?
    let limits: ScanLimits
    /// Counted from submission: a caller is answered within `scanTimeout` even when every
    /// worker is busy.
    let deadline: ContinuousClock.Instant
    private let state: Mutex<State>

    init(descriptor: Int32, name: String?, limits: ScanLimits) {
        self.name = name
        self.limits = limits
        self.deadline = .now + limits.scanTimeout
        self.state = Mutex(State(descriptor: descriptor))
    }

    deinit {
        state.withLock { if $0.descriptor >= 0 { close($0.descriptor) } }
    }

    var isSettled: Bool { state.withLock { $0.settled } }

    /// Hands the content to a slot, or nil when the job was answered meanwhile. The slot closes it.
    func takeDescriptor() -> Int32? {
        state.withLock { state in
            guard !state.settled, state.descriptor >= 0 else { return nil }
            defer { state.descriptor = -1 }
            return state.descriptor
        }
    }

    func attach(_ continuation: CheckedContinuation<ScanResult, Never>) {
        let early: ScanResult? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    /// Answers unless someone already did.
    func finish(_ result: ScanResult) {
        let continuation = state.withLock { state -> CheckedContinuation<ScanResult, Never>? in
            guard !state.settled else { return nil }
            state.settled = true
            guard let continuation = state.continuation else {
                state.early = result
                return nil
            }
            state.continuation = nil
            return continuation
        }
        continuation?.resume(returning: result)
    }
}

/// The jobs waiting for a slot, first come first served.
final class RemoteScanQueue: Sendable {
    private struct State {
        var jobs: [RemoteScanJob] = []
        var head = 0
        var closed = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let slots: Int

    init(slots: Int) {
        self.slots = slots
    }

    func submit(_ job: RemoteScanJob) {
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.jobs.append(job)
            return true
        }
        if accepted {
            available.signal()
        } else {
            job.finish(.unchecked(.engineError("the scanner is shutting down")))
        }
    }

    /// The next job, blocking; nil once the queue is closed.
    func take() -> RemoteScanJob? {
        while true {
            available.wait()
            let next = state.withLock { state -> RemoteScanJob?? in
                if state.closed { return .some(nil) }
                guard state.head < state.jobs.count else { return nil }
                let job = state.jobs[state.head]
                state.head += 1
                if state.head > 64, state.head * 2 > state.jobs.count {
                    state.jobs.removeFirst(state.head)
                    state.head = 0
                }
                return job
            }
            if let next { return next }
        }
    }

    /// Wakes every slot to leave and answers what is still queued.
    func close() {
        let left = state.withLock { state -> [RemoteScanJob] in
            state.closed = true
            defer { state.jobs = [] }
            return Array(state.jobs[state.head...])
        }
        for job in left { job.finish(.unchecked(.engineError("the scanner is shutting down"))) }
        for _ in 0..<slots { available.signal() }
    }
}
