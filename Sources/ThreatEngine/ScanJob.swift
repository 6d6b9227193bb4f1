import Synchronization

/// One scan handed to the worker pool, and the single place its answer is delivered.
///
/// Two parties race to answer: the worker that runs libclamav, and the deadline (or the
/// caller's cancellation). Whoever comes first resumes the continuation; the other finds the
/// job settled. A deadline that hits a job still in the queue keeps the worker from starting
/// it; one that hits a running job abandons it (the worker finishes libclamav's call, drops the
/// result and leaves the pool, which starts a replacement).
final class ScanJob: Sendable {
    enum Phase {
        case queued
        case running
        /// Answered. `abandoned` is true when the answer came from the deadline while running.
        case settled(abandoned: Bool)
    }

    struct State {
        var phase: Phase = .queued
        var continuation: CheckedContinuation<ScanResult, Never>?
        /// An answer that arrived before the continuation was attached.
        var early: ScanResult?
    }

    let context: ScanContext
    private let work: @Sendable (ScanContext) -> ScanResult
    private let state = Mutex(State())

    init(context: ScanContext, work: @escaping @Sendable (ScanContext) -> ScanResult) {
        self.context = context
        self.work = work
    }

    /// Attaches the waiting caller. If the job was already settled, resumes at once.
    func attach(_ continuation: CheckedContinuation<ScanResult, Never>) {
        let early: ScanResult? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    /// Runs the scan on the calling (worker) thread. Returns true when the job was abandoned
    /// while running, i.e. the worker should leave the pool.
    func run() -> Bool {
        let start = state.withLock { state -> Bool in
            guard case .queued = state.phase else { return false }
            state.phase = .running
            return true
        }
        guard start else { return false }
        let result = work(context)
        var abandoned = false
        let continuation = state.withLock { state -> CheckedContinuation<ScanResult, Never>? in
            if case .settled(let wasAbandoned) = state.phase {
                abandoned = wasAbandoned
                return nil
            }
            state.phase = .settled(abandoned: false)
            return take(result, from: &state)
        }
        continuation?.resume(returning: result)
        return abandoned
    }

    /// Answers `result` now unless the worker already did. Returns true when the job was
    /// running, i.e. a worker is now stuck in libclamav on behalf of nobody.
    @discardableResult
    func expire(with result: ScanResult) -> Bool {
        var wasRunning = false
        let continuation = state.withLock { state -> CheckedContinuation<ScanResult, Never>? in
            switch state.phase {
            case .settled:
                return nil
            case .queued:
                state.phase = .settled(abandoned: false)
            case .running:
                wasRunning = true
                state.phase = .settled(abandoned: true)
            }
            return take(result, from: &state)
        }
        context.cancel()
        continuation?.resume(returning: result)
        return wasRunning
    }

    private func take(_ result: ScanResult, from state: inout State) -> CheckedContinuation<ScanResult, Never>? {
        guard let continuation = state.continuation else {
            state.early = result
            return nil
        }
        state.continuation = nil
        return continuation
    }
}
