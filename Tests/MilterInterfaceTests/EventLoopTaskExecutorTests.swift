import Foundation
import InterfaceSupport
import NIOCore
import NIOPosix
import Testing

/// Checks of small messages run on their connection's event loop (no hand-off to the pool and
/// back); large or spooled ones stay on the pool, where they hold up no connection.
@Suite struct EventLoopTaskExecutorTests {
    @Test func aTaskItsChildrenAndItsResumptionsRunOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop)
        let result = await Task(executorPreference: executor) { () -> [Bool] in
            var onLoop = [loop.inEventLoop]
            // Child tasks (a task group's scan batches) inherit the loop.
            onLoop += await withTaskGroup(of: Bool.self) { children in
                for _ in 0..<4 { children.addTask { loop.inEventLoop } }
                return await children.reduce(into: []) { $0.append($1) }
            }
            // Resumed from another thread (a scan slot, the resolver): back on the loop.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread { continuation.resume() }.start()
            }
            onLoop.append(loop.inEventLoop)
            return onLoop
        }.value
        #expect(result == Array(repeating: true, count: 6))
        try await group.shutdownGracefully()
    }

    @Test func onlySmallMessagesInMemoryAreCheckedOnTheLoop() {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let limit = 128 << 10
        #expect(CheckPlacement.executor(forMessageOf: 2_000, inMemory: true, on: loop, limit: limit)?.eventLoop === loop)
        #expect(CheckPlacement.executor(forMessageOf: limit, inMemory: true, on: loop, limit: limit) != nil)
        #expect(CheckPlacement.executor(forMessageOf: limit + 1, inMemory: true, on: loop, limit: limit) == nil)
        #expect(CheckPlacement.executor(forMessageOf: 2_000, inMemory: false, on: loop, limit: limit) == nil)
    }

    /// Only loops reserved for mail take checks: those of the console, PostgreSQL's client and
    /// every group nobody reserved keep their checks on the pool.
    @Test func onlyLoopsReservedForMailTakeChecks() {
        let mail = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let other = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer {
            try? mail.syncShutdownGracefully()
            try? other.syncShutdownGracefully()
        }
        let small = 2_000
        #expect(CheckPlacement.executor(forMessageOf: small, inMemory: true, on: mail.next()) == nil, "not reserved yet")
        CheckPlacement.reserveForMail(mail)
        for loop in mail.makeIterator() {
            #expect(CheckPlacement.executor(forMessageOf: small, inMemory: true, on: loop)?.eventLoop === loop)
            #expect(CheckPlacement.executor(forMessageOf: CheckPlacement.loopLimit + 1, inMemory: true, on: loop) == nil)
            #expect(CheckPlacement.executor(forMessageOf: small, inMemory: false, on: loop) == nil)
        }
        #expect(CheckPlacement.executor(forMessageOf: small, inMemory: true, on: other.next()) == nil)
        #expect(CheckPlacement.executor(forMessageOf: small, inMemory: true, on: MultiThreadedEventLoopGroup.singleton.next()) == nil)
        CheckPlacement.release(mail)
        #expect(CheckPlacement.executor(forMessageOf: small, inMemory: true, on: mail.next()) == nil, "released")
    }
}
