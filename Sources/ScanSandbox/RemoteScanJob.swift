import Foundation
import Synchronization
import ThreatEngine

/// One request for a worker, waiting for or running in it: a descriptor and the spans of it to
/// scan (one for a lone part or a spooled file, several for a message's small parts), and the
/// single place their answers are delivered. The slot that runs it, the outer deadline and the
/// caller's cancellation race to answer; the first wins, the others find it settled.
final class RemoteScanJob: Sendable {
    struct State {
        var settled = false
        var continuation: CheckedContinuation<[ScanResult], Never>?
        var early: [ScanResult]?
        /// The content to scan, owned by the job until a slot takes it.
        var descriptor: Int32
    }

    let spans: [PartSpan]
    let limits: ScanLimits
    /// How much there is to scan: the queue serves small jobs ahead of large ones.
    let bytes: Int
    /// Counted from submission: a caller is answered within `scanTimeout` even when every
    /// worker is busy.
    let deadline: ContinuousClock.Instant
    private let state: Mutex<State>

    init(descriptor: Int32, spans: [PartSpan], bytes: Int, limits: ScanLimits) {
        self.spans = spans
        self.limits = limits
        self.bytes = bytes
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

    func attach(_ continuation: CheckedContinuation<[ScanResult], Never>) {
        let early: [ScanResult]? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    /// Answers every span alike unless someone already answered.
    func finish(_ result: ScanResult) {
        finish(Array(repeating: result, count: spans.count))
    }

    /// Answers, one result per span, unless someone already did.
    func finish(_ results: [ScanResult]) {
        // One per span, whatever a caller handed in: a span without an answer is unchecked,
        // never clean, and moatd does not stop over it.
        var results = Array(results.prefix(spans.count))
        results += Array(repeating: .unchecked(.engineError("no answer for this part")), count: spans.count - results.count)
        let continuation = state.withLock { state -> CheckedContinuation<[ScanResult], Never>? in
            guard !state.settled else { return nil }
            state.settled = true
            guard let continuation = state.continuation else {
                state.early = results
                return nil
            }
            state.continuation = nil
            return continuation
        }
        continuation?.resume(returning: results)
    }
}

/// The jobs waiting for a slot. A small job (one message's small parts, under
/// `PartBatches.largePart`) goes ahead of large ones, which would otherwise hold every small
/// message behind them: with 12 clients sending 10 MB messages to the spamd interface, checks
/// of a 143-byte message took up to 2.4 s in first-come-first-served order, 0.26 s since
/// (Benchmarks/Scale/RESULTS.md, `mixed.sh`). Large jobs are not starved: after `smallPerLarge` small jobs
/// in a row, the oldest large one goes next. Within a lane, first come first served.
///
/// A job still waiting at its deadline (every worker busy past it) is answered
/// `unchecked(timeout)` by the queue's one watcher thread, so a caller never waits beyond its
/// ScanTimeout; a job a slot has taken is the slot's to time out (it kills the worker). One
/// watcher for the queue, not a timer per scan: a task and a dispatch timer for every part cost
/// a few percent of the Milter's CPU per message.
final class RemoteScanQueue: Sendable {
    /// Small jobs taken in a row while a large one waits.
    static let smallPerLarge = 4

    private struct State {
        var small = JobLane()
        var large = JobLane()
        /// Small jobs taken in a row while a large one waited.
        var smallInARow = 0
        var closed = false
        /// When the watcher wakes next: the earliest deadline queued, else a second from its
        /// last look (so that a submission signals it only for a deadline sooner than that).
        var watcherWakes: ContinuousClock.Instant?

        var waiting: [RemoteScanJob] { Array(small.waiting) + Array(large.waiting) }

        /// The job a free slot takes now, if any.
        mutating func next() -> RemoteScanJob? {
            if !small.isEmpty, large.isEmpty || smallInARow < RemoteScanQueue.smallPerLarge {
                // Counted only while a large one waits: one arriving after a long run of small
                // jobs does not jump the queue.
                smallInARow = large.isEmpty ? 0 : smallInARow + 1
                return small.removeFirst()
            }
            smallInARow = 0
            return large.removeFirst()
        }
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let watcherSignal = DispatchSemaphore(value: 0)
    private let slots: Int

    init(slots: Int) {
        self.slots = slots
        let thread = Thread { [self] in watchDeadlines() }
        thread.name = "moat-scan-deadlines"
        thread.start()
    }

    /// Jobs waiting for a slot.
    var waitingCount: Int { state.withLock { $0.small.count + $0.large.count } }

    func submit(_ job: RemoteScanJob) {
        let (accepted, wakeWatcher) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            if job.bytes < PartBatches.largePart { state.small.append(job) } else { state.large.append(job) }
            // Usually a later deadline than the queued ones': the watcher sleeps on undisturbed.
            guard state.watcherWakes.map({ job.deadline < $0 }) ?? true else { return (true, false) }
            state.watcherWakes = job.deadline
            return (true, true)
        }
        if accepted {
            available.signal()
            if wakeWatcher { watcherSignal.signal() }
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
                return state.next()
            }
            if let next { return next }
        }
    }

    /// Wakes every slot to leave and answers what is still queued.
    func close() {
        let left = state.withLock { state -> [RemoteScanJob] in
            state.closed = true
            defer { state.small = JobLane(); state.large = JobLane() }
            return state.waiting
        }
        for job in left { job.finish(.unchecked(.engineError("the scanner is shutting down"))) }
        for _ in 0..<slots { available.signal() }
        watcherSignal.signal()
    }

    private func watchDeadlines() {
        while true {
            let now = ContinuousClock.now
            let (expired, closed) = state.withLock { state -> ([RemoteScanJob], Bool) in
                guard !state.closed else { return ([], true) }
                var expired: [RemoteScanJob] = []
                var earliest: ContinuousClock.Instant?
                for job in state.waiting {
                    if job.deadline <= now {
                        expired.append(job)
                    } else if !job.isSettled {
                        earliest = min(earliest ?? job.deadline, job.deadline)
                    }
                }
                state.watcherWakes = min(earliest ?? now + .seconds(1), now + .seconds(1))
                return (expired, false)
            }
            if closed { return }
            // A slot may take one of these at the same moment: the first answer wins.
            for job in expired { job.finish(.unchecked(.timeout)) }
            let wakes = state.withLock { $0.watcherWakes } ?? now + .seconds(1)
            let wait = ContinuousClock.now.duration(to: wakes)
            let nanoseconds = max(0, wait.components.seconds * 1_000_000_000 + wait.components.attoseconds / 1_000_000_000)
            _ = watcherSignal.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
        }
    }
}

/// One lane of the queue: first in, first out, without moving the array on every take.
struct JobLane {
    private var jobs: [RemoteScanJob] = []
    private var head = 0

    var isEmpty: Bool { head == jobs.count }
    var count: Int { jobs.count - head }
    var waiting: ArraySlice<RemoteScanJob> { jobs[head...] }

    mutating func append(_ job: RemoteScanJob) { jobs.append(job) }

    mutating func removeFirst() -> RemoteScanJob? {
        guard head < jobs.count else { return nil }
        let job = jobs[head]
        head += 1
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64, head * 2 > jobs.count {
            jobs.removeFirst(head)
            head = 0
        }
        return job
    }
}
