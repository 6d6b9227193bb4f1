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
public enum CheckPlacement {
    /// Messages up to this size are checked on their connection's loop. The check of a 128 KB
    /// message is a few milliseconds of CPU; the wake-ups it saves are a fixed cost per message.
    public static let loopLimit = 128 << 10

    /// The executor to prefer for checking `size` bytes held in memory; nil: the global pool.
    public static func executor(forMessageOf size: Int, inMemory: Bool, on loop: any EventLoop) -> EventLoopTaskExecutor? {
        inMemory && size <= loopLimit ? EventLoopTaskExecutor(loop) : nil
    }
}
