import NIOCore

/// Runs a task's jobs on one NIO event loop: the loop a connection lives on.
///
/// A check started with `Task {}` goes to the cooperative pool and its answer comes back with
/// `loop.execute`: two thread hand-offs, each a futex or eventfd wake-up and a context switch,
/// which cost more than checking a small message (perf, Benchmarks/Milter/RESULTS.md). A small
/// message is checked on its connection's loop instead; only the scan worker's answer wakes
/// the loop. Its child tasks (the scan batches of a task group) and the default actors it
/// calls run there too.
///
/// Only for work that does not block and is short (`CheckPlacement`): while it runs, the
/// loop's other connections wait.
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Where a check runs: on its connection's event loop when the message is small and in memory,
/// else on Swift's cooperative pool, where a long check (a large message, a spooled one read
/// from disk) does not hold up the other connections of the loop.
///
/// **Off for now** (`loopLimit` nil): measured on the Milter and the Gate it halved moatd's
/// context switches together with the DNS answer cache, but in the full test run (debug
/// builds, many servers of one process sharing `MultiThreadedEventLoopGroup.singleton`) the
/// checks on the loops delayed the other channels of those loops, the console's HTTP and
/// PostgreSQL's, until their tests timed out. Before it is turned on, the interfaces need
/// loops of their own, apart from the console's and the database's.
public enum CheckPlacement {
    /// Messages up to this size would be checked on their connection's loop; nil: none is.
    public static let loopLimit: Int? = nil

    /// The executor to prefer for checking `size` bytes held in memory; nil: the global pool.
    public static func executor(forMessageOf size: Int, inMemory: Bool, on loop: any EventLoop,
                                limit: Int? = CheckPlacement.loopLimit) -> EventLoopTaskExecutor? {
        guard let limit, inMemory, size <= limit else { return nil }
        return EventLoopTaskExecutor(loop)
    }
}
