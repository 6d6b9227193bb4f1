import Foundation
import Testing
import Storage

/// The learned model on disk: dedupe, relearning, forgetting, and that it survives a reopen.
struct LearnedModelStoreTests {
    static func temporaryPath() -> String {
        NSTemporaryDirectory() + "moat-storage-\(UUID().uuidString)/model.sqlite"
    }

    static func counts(_ store: LearnedModelStore) throws -> [Int64: (Int64, Int64)] {
        var out: [Int64: (Int64, Int64)] = [:]
        for row in try store.allFeatureCounts() { out[row.feature] = (row.spam, row.ham) }
        return out
    }

    @Test func learningCountsEachMessageOnce() throws {
        let store = try LearnedModelStore(path: nil)
        #expect(try store.learn(digest: "a", as: .spam, features: [1, 2]) == .learned)
        #expect(try store.learn(digest: "a", as: .spam, features: [1, 2]) == .alreadyLearned)
        #expect(try store.learn(digest: "b", as: .spam, features: [2, 3]) == .learned)
        #expect(try store.learn(digest: "c", as: .ham, features: [3]) == .learned)
        let c = try Self.counts(store)
        #expect(c[1]! == (1, 0))
        #expect(c[2]! == (2, 0))
        #expect(c[3]! == (1, 1))
        #expect(try store.learnedCounts() == [.spam: 2, .ham: 1])
        #expect(try store.learnedClass(digest: "b") == .spam)
        #expect(try store.learnedClass(digest: "zz") == nil)
    }

    @Test func relearningMovesTheMessageToTheOtherClass() throws {
        let store = try LearnedModelStore(path: nil)
        _ = try store.learn(digest: "a", as: .spam, features: [1, 2])
        #expect(try store.learn(digest: "a", as: .ham, features: [1, 2]) == .relearned(from: .spam))
        let c = try Self.counts(store)
        #expect(c[1]! == (0, 1))
        #expect(try store.learnedCounts() == [.spam: 0, .ham: 1])
    }

    @Test func forgettingRemovesTheMessageAndItsEmptyFeatures() throws {
        let store = try LearnedModelStore(path: nil)
        _ = try store.learn(digest: "a", as: .spam, features: [1, 2])
        _ = try store.learn(digest: "b", as: .ham, features: [2])
        #expect(try store.forget(digest: "a", features: [1, 2]) == .forgotten(.spam))
        #expect(try store.forget(digest: "a", features: [1, 2]) == .notLearned)
        let c = try Self.counts(store)
        #expect(c[1] == nil)
        #expect(c[2]! == (0, 1))
        #expect(try store.learnedCounts() == [.spam: 0, .ham: 1])
    }

    @Test func theModelSurvivesReopeningTheFile() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        do {
            let store = try LearnedModelStore(path: path)
            _ = try store.learn(digest: "a", as: .spam, features: [Int64.min, Int64.max])
        }
        let reopened = try LearnedModelStore(path: path)
        let c = try Self.counts(reopened)
        #expect(c[Int64.min]! == (1, 0))
        #expect(c[Int64.max]! == (1, 0))
        #expect(try reopened.learn(digest: "a", as: .spam, features: [Int64.min]) == .alreadyLearned)
    }
}
