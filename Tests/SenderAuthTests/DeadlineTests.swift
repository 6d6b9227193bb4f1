import Foundation
import Testing
@testable import SenderAuth

/// The time limit of the sender checks, kept by one timer thread.
struct DeadlineTests {
    @Test func aCheckPastItsLimitIsCancelledAndAnsweredTimedOut() async {
        let result = await Deadline.run(.milliseconds(200), {
            // A DNS check that never answers: only cancellation ends it.
            try? await Task.sleep(for: .seconds(600))
            return Task.isCancelled ? "cancelled" : "finished"
        }, timedOut: { "timed out" })
        #expect(result == "timed out")
    }

    @Test func aCheckWithinItsLimitGivesItsOwnAnswer() async {
        let results = await withTaskGroup(of: Int.self) { group in
            for n in 0..<200 {
                group.addTask { await Deadline.run(.seconds(60), { n }, timedOut: { -1 }) }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<200))
    }

    @Test func aSoonerLimitScheduledBehindALaterOneStillFires() async {
        async let late = Deadline.run(.seconds(60), { try? await Task.sleep(for: .seconds(3)); return "late done" },
                                      timedOut: { "late timed out" })
        try? await Task.sleep(for: .milliseconds(50))
        let soon = await Deadline.run(.milliseconds(100), { try? await Task.sleep(for: .seconds(600)); return "soon done" },
                                      timedOut: { "soon timed out" })
        #expect(soon == "soon timed out")
        #expect(await late == "late done")
    }

    @Test func noTimeLeftAnswersAtOnce() async {
        #expect(await Deadline.run(.zero, { "ran" }, timedOut: { "timed out" }) == "timed out")
    }

    @Test func theCallersCancellationReachesTheCheck() async {
        let task = Task {
            await Deadline.run(.seconds(600), {
                try? await Task.sleep(for: .seconds(600))
                return Task.isCancelled ? "cancelled" : "finished"
            }, timedOut: { "timed out" })
        }
        try? await Task.sleep(for: .milliseconds(100))
        task.cancel()
        #expect(await task.value == "cancelled")
    }
}
