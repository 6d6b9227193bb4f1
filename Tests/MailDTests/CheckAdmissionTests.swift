import Foundation
import Synchronization
import Testing
@testable import MailD

/// At most `limit` checks of large messages hold their decoded parts at once; the others wait
/// their turn. Small messages have places of their own, not behind the large ones.
struct CheckAdmissionTests {
    final class Gauge: Sendable {
        private let state = Mutex((now: 0, peak: 0, done: 0))
        func enter() { state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
        func leave() { state.withLock { $0.now -= 1; $0.done += 1 } }
        var peak: Int { state.withLock { $0.peak } }
        var done: Int { state.withLock { $0.done } }
    }

    final class Order: Sendable {
        private let names = Mutex<[String]>([])
        func add(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    @Test func noMoreThanTheLimitRunAtOnceAndEveryOneRuns() async {
        let admission = CheckAdmission(limit: 3)
        let gauge = Gauge()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    await admission.run(size: nil) {
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
            await admission.run(size: nil) {
                while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        while admission.running == 0 { try? await Task.sleep(for: .milliseconds(5)) }
        let waiter = Task { await admission.run(size: nil) { Task.isCancelled ? "cancelled" : "ran" } }
        try? await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        #expect(await waiter.value == "cancelled", "let in at once, not after the holder")
        release.withLock { $0 = true }
        await holder.value
        #expect(admission.running == 0)
        #expect(await admission.run(size: nil) { "next" } == "next")
    }

    @Test func aSmallMessageIsNotQueuedBehindLargeOnes() async {
        let admission = CheckAdmission(limit: 1)
        let release = Mutex(false)
        let holder = Task {
            await admission.run(size: 10 << 20) {
                while !release.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        while admission.running == 0 { try? await Task.sleep(for: .milliseconds(5)) }
        let order = Order()
        let large = Task { await admission.run(size: CheckAdmission.smallMessage) { order.add("large") } }
        let unknown = Task { await admission.run(size: nil) { order.add("unknown size") } }
        // The place is held: only the small one may run before the holder lets go.
        let small = Task { await admission.run(size: CheckAdmission.smallMessage - 1) { order.add("small") } }
        let deadline = ContinuousClock.now + .seconds(10)
        while order.all.isEmpty, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        #expect(order.all == ["small"], "the small check ran while the only place was held")
        release.withLock { $0 = true }
        await holder.value
        await small.value
        await large.value
        await unknown.value
        #expect(Set(order.all) == ["small", "large", "unknown size"])
        #expect(admission.running == 0 && admission.runningSmall == 0)
    }

    @Test func smallMessagesHaveALimitOfTheirOwn() async {
        let admission = CheckAdmission(limit: 1, smallLimit: 3)
        let gauge = Gauge()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<30 {
                group.addTask {
                    await admission.run(size: 100) {
                        gauge.enter()
                        try? await Task.sleep(for: .milliseconds(5))
                        gauge.leave()
                    }
                }
            }
        }
        #expect(gauge.done == 30)
        #expect(gauge.peak <= 3, "a flood of small messages is bounded too")
        #expect(gauge.peak >= 2, "small checks do run side by side up to their limit")
        #expect(admission.runningSmall == 0)
    }
}
