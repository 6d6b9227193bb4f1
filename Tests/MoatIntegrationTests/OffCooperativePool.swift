import Dispatch
import Testing

/// These suites run processes, wait for sockets and poll with `usleep`: seconds of blocking
/// per test. Run on Swift's cooperative pool (two threads on two cores), two of them at once
/// stall every other suite's tasks; CI saw unit tests take 100 s and deadlines missed by 45 s.
/// With this trait each test case runs with a task executor of its own, a serial dispatch
/// queue whose thread is not one of the pool's.
struct OffCooperativePool: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func scopeProvider(for test: Test, testCase: Test.Case?) -> OffCooperativePool? {
        testCase == nil ? nil : self
    }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(DedicatedQueueExecutor()) {
            try await function()
        }
    }
}

extension Trait where Self == OffCooperativePool {
    /// Runs each test case away from the cooperative pool (see `OffCooperativePool`).
    static var offCooperativePool: Self { OffCooperativePool() }
}

/// A task executor on a serial dispatch queue of its own.
final class DedicatedQueueExecutor: TaskExecutor {
    /// Set on every such queue: code can tell it runs there.
    static let marker = DispatchSpecificKey<Bool>()
    private let queue = DispatchQueue(label: "moat-integration-test")

    init() { queue.setSpecific(key: Self.marker, value: true) }

    static var isCurrent: Bool { DispatchQueue.getSpecific(key: marker) == true }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}

@Suite(.offCooperativePool) struct OffCooperativePoolTests {
    /// A synchronous test body, as most here are, runs on the dedicated queue.
    @Test func aSynchronousTestRunsOnItsOwnQueue() {
        #expect(DedicatedQueueExecutor.isCurrent)
    }

    @Test func anAsynchronousTestStaysThereAcrossSuspensions() async throws {
        #expect(DedicatedQueueExecutor.isCurrent)
        try await Task.sleep(for: .milliseconds(10))
        #expect(DedicatedQueueExecutor.isCurrent)
    }
}
