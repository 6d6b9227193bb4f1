import NIOCore
import Synchronization

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
/// Only on loops reserved for mail (`reserveForMail`): moatd gives its interfaces and the Gate
/// an event loop group of their own, so a check on a loop delays other mail connections for a
/// few milliseconds at most, never the console's HTTP, PostgreSQL's client or the control
/// socket, which stay on `MultiThreadedEventLoopGroup.singleton`. On any other loop (those of
/// tests and tools that did not reserve theirs) a check runs on the pool.
public enum CheckPlacement {
    /// Messages up to this size are checked on their connection's loop when it is reserved
    /// for mail: 128 KB take a few milliseconds to check (Benchmarks/Milter/RESULTS.md).
    public static let loopLimit = 128 * 1024

    private static let mailLoops = Mutex<Set<ObjectIdentifier>>([])

    /// Marks every loop of `group` as carrying mail connections only: checks of small messages
    /// may run there. Until `release`, which must come before the group is shut down (a freed
    /// loop's identifier could be another loop's later).
    public static func reserveForMail(_ group: any EventLoopGroup) {
        let loops = group.makeIterator().map { ObjectIdentifier($0) }
        mailLoops.withLock { $0.formUnion(loops) }
    }

    /// `group`'s loops are no longer reserved: every check started from now on runs on the pool.
    public static func release(_ group: any EventLoopGroup) {
        let loops = group.makeIterator().map { ObjectIdentifier($0) }
        mailLoops.withLock { $0.subtract(loops) }
    }

    /// Whether `loop` was reserved for mail.
    public static func isReservedForMail(_ loop: any EventLoop) -> Bool {
        let id = ObjectIdentifier(loop)
        return mailLoops.withLock { $0.contains(id) }
    }

    /// The executor to prefer for checking `size` bytes on `loop`; nil: the global pool.
    public static func executor(forMessageOf size: Int, inMemory: Bool, on loop: any EventLoop) -> EventLoopTaskExecutor? {
        executor(forMessageOf: size, inMemory: inMemory, on: loop, limit: isReservedForMail(loop) ? loopLimit : nil)
    }

    /// The same with the limit given: nil, none is placed on the loop.
    public static func executor(forMessageOf size: Int, inMemory: Bool, on loop: any EventLoop,
                                limit: Int?) -> EventLoopTaskExecutor? {
        guard let limit, inMemory, size <= limit else { return nil }
        return EventLoopTaskExecutor(loop)
    }
}
