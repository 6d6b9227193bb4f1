import Foundation
import Synchronization

/// A time limit for a whole check (SPF, the blocklists): when it passes, the check's task is
/// cancelled, which cancels its DNS queries (the resolver answers a cancelled query at once),
/// and the caller gets `timedOut()` without waiting for any server.
///
/// The limits are kept by one `DeadlineTimer` thread, not by a sleeping task and a dispatch
/// timer per check: three checks a message made those a visible share of the CPU per message.
enum Deadline {
    /// `executor`: where the operation's task runs (nil: the global pool); an unstructured
    /// task does not inherit its caller's preference, and a hop to the pool and back costs
    /// more than a small message's sender checks.
    static func run<T: Sendable>(_ limit: Duration, on executor: (any TaskExecutor)? = nil,
                                 _ operation: @escaping @Sendable () async -> T,
                                 timedOut: @escaping @Sendable () -> T) async -> T {
        guard limit > .zero else { return timedOut() }
        let expired = ExpiryFlag()
        let task = Task(executorPreference: executor) { await operation() }
        let timer = DeadlineTimer.shared.schedule(at: .now + limit) {
            expired.set()
            task.cancel()
        }
        let result = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        DeadlineTimer.shared.cancel(timer)
        return expired.isSet ? timedOut() : result
    }
}

final class ExpiryFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// One thread that runs each scheduled action at its instant. It sleeps towards the earliest
/// one (at most a second) and is woken only when a sooner one is scheduled, so scheduling and
/// cancelling cost a lock, not a system call, in the usual case of limits that never fire.
final class DeadlineTimer: Sendable {
    static let shared = DeadlineTimer()

    private struct Entry {
        let instant: ContinuousClock.Instant
        let action: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextID: UInt64 = 0
        var wakes: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let signal = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in run() }
        thread.name = "moat-deadlines"
        thread.start()
    }

    func schedule(at instant: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, wake) = state.withLock { state -> (UInt64, Bool) in
            state.nextID += 1
            state.entries[state.nextID] = Entry(instant: instant, action: action)
            guard state.wakes.map({ instant < $0 }) ?? true else { return (state.nextID, false) }
            state.wakes = instant
            return (state.nextID, true)
        }
        if wake { signal.signal() }
        return id
    }

    func cancel(_ id: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    private func run() -> Never {
        while true {
            let now = ContinuousClock.now
            let due = state.withLock { state -> [@Sendable () -> Void] in
                var due: [@Sendable () -> Void] = []
                var earliest = now + .seconds(1)
                for (id, entry) in state.entries {
                    if entry.instant <= now {
                        due.append(entry.action)
                        state.entries[id] = nil
                    } else {
                        earliest = min(earliest, entry.instant)
                    }
                }
                state.wakes = earliest
                return due
            }
            for action in due { action() }
            let wakes = state.withLock { $0.wakes } ?? now + .seconds(1)
            let wait = ContinuousClock.now.duration(to: wakes)
            let nanoseconds = max(0, wait.components.seconds * 1_000_000_000 + wait.components.attoseconds / 1_000_000_000)
            _ = signal.wait(timeout: .now() + .nanoseconds(Int(nanoseconds)))
        }
    }
}
