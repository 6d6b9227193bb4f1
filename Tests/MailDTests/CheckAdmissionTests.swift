import Foundation
import Synchronization
import Testing
@testable import MailD

/// At most `limit` checks hold their decoded parts at once; the others wait their turn.
struct CheckAdmissionTests {
    final class Gauge: Sendable {
        private let state = Mutex((now: 0, peak: 0, done: 0))
        func enter() { state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
        func leave() { state.withLock { $0.now -= 1; $0.done += 1 } }
        var peak: Int { state.withLock { $0.peak } }
        var done: Int { state.withLock { $0.done } }
    }

    @Test func noMoreThanTheLimitRunAtOnceAndEveryOneRuns() async {
        let admission = CheckAdmission(limit: 3)
        let gauge = Gauge()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    await admission.run {
                        gauge.enter()
                        try? await Task.sleep(for: .milliseconds(5))
                        gauge.leave()
                    }
                }
            }
        }
        #expect(gauge.done == 40)
        #expect(gauge.peak <= 3)
        #expect(gauge.peak >= 2, "checks do run side by side up to the limit")
        #expect(admission.running == 0)
    }

    @Test func aCancelledWaiterIsLetInAndThePlacesAddUp() async {
        let admission = CheckAdmission(limit: 1)
        let release = Mutex(false)
        let holder = Task {
            await admission.run {
                while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        while admission.running == 0 { try? await Task.sleep(for: .milliseconds(5)) }
        let waiter = Task { await admission.run { Task.isCancelled ? "cancelled" : "ran" } }
        try? await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        #expect(await waiter.value == "cancelled", "let in at once, not after the holder")
        release.withLock { $0 = true }
        await holder.value
        #expect(admission.running == 0)
        #expect(await admission.run { "next" } == "next")
    }
}
