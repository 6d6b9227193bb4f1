import MailD
import NIOCore

/// The checks one connection started, each a task that dies with the connection: a client
/// that hangs up mid-check frees the engine at once (the scans are cancelled with the task)
/// instead of leaving work nobody will read. Used on the connection's event loop only.
public final class ConnectionChecks {
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var next = 0
    private var closed = false
    let eventLoop: any EventLoop
    /// Tests: awaited before each check, to hold one open and see it cancelled.
    let hook: (@Sendable () async -> Void)?

    public init(eventLoop: any EventLoop, hook: (@Sendable () async -> Void)? = nil) {
        self.eventLoop = eventLoop
        self.hook = hook
    }

    public var isEmpty: Bool { tasks.isEmpty }

    /// Runs `work` off the event loop, or on it when `executor` (`CheckPlacement`) says so;
    /// `then` gets its result back on the loop, only while the connection is open; else
    /// `dropped` gets it (a result that holds a resource, such as an open file, is released
    /// there).
    public func start<Result: Sendable>(on executor: EventLoopTaskExecutor? = nil,
                                        _ work: @escaping @Sendable () async -> Result,
                                        then: @escaping (Result) -> Void,
                                        dropped: ((Result) -> Void)? = nil) {
        eventLoop.preconditionInEventLoop()
        guard !closed else { return }
        let number = next
        next += 1
        let bound = NIOLoopBound((self, then, dropped), eventLoop: eventLoop)
        let loop = eventLoop, hook = hook
        tasks[number] = Task(executorPreference: executor) {
            if let hook { await hook() }
            let result = await CheckExecution.$executor.withValue(executor) { await work() }
            loop.execute {
                let (checks, then, dropped) = bound.value
                guard checks.tasks.removeValue(forKey: number) != nil, !checks.closed else {
                    dropped?(result)
                    return
                }
                then(result)
            }
        }
    }

    /// The connection closed: every check still running is cancelled and its result dropped.
    public func cancelAll() {
        closed = true
        for task in tasks.values { task.cancel() }
        tasks = [:]
    }
}
