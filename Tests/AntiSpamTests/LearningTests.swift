import Foundation
import MIME
import Storage
import Testing
@testable import AntiSpam

/// Learning spam and ham, what the model then says, and what it refuses to say too early.
struct LearningTests {
    static let spamWords = ["pharmacy", "discount", "pills", "winner", "casino", "bonus", "unsubscribe", "offer", "cheap", "replica"]
    static let hamWords = ["meeting", "patch", "review", "kernel", "agenda", "minutes", "build", "release", "thanks", "branch"]

    /// A message of `count` words drawn (deterministically) from `words`.
    static func message(_ words: [String], seed: Int, count: Int = 40) -> MIMEMessage {
        var body: [String] = []
        var x = UInt64(seed + 1) &* 0x9E37_79B9_7F4A_7C15
        for _ in 0..<count {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            body.append(words[Int((x >> 33) % UInt64(words.count))])
        }
        return TestMessages.plain(subject: body.prefix(3).joined(separator: " "), body: body.joined(separator: " "),
                                  messageID: "<\(seed)@\(words[0]).example>")
    }

    static func trained(minimum: Int = 5, store: LearnedModelStore? = nil) throws -> SpamEngine {
        let engine = try SpamEngine(settings: AntiSpamSettings(minLearnedPerClass: minimum), store: store)
        for i in 0..<minimum {
            try engine.learn(message(spamWords, seed: i), as: .spam)
            try engine.learn(message(hamWords, seed: 1000 + i), as: .ham)
        }
        return engine
    }

    @Test func untilEnoughOfBothClassesAreLearnedTheModelIsNotUsed() throws {
        let engine = try SpamEngine(settings: AntiSpamSettings(minLearnedPerClass: 5), store: nil)
        for i in 0..<5 { try engine.learn(Self.message(Self.spamWords, seed: i), as: .spam) }
        for i in 0..<4 { try engine.learn(Self.message(Self.hamWords, seed: 1000 + i), as: .ham) }
        let r = engine.check(Self.message(Self.spamWords, seed: 99))
        #expect(r.statisticsNote == "statistical model not used: 5 spam and 4 ham learned, at least 5 of each needed")
        #expect(!r.symbols.contains { $0.name.hasPrefix("BAYES") })
        try engine.learn(Self.message(Self.hamWords, seed: 1004), as: .ham)
        #expect(engine.check(Self.message(Self.spamWords, seed: 99)).statisticsNote == nil)
    }

    @Test func aTrainedModelTellsSpamFromHam() throws {
        let engine = try Self.trained()
        let spam = engine.check(Self.message(Self.spamWords, seed: 500))
        let ham = engine.check(Self.message(Self.hamWords, seed: 1500))
        #expect(spam.symbols.contains { $0.name == "BAYES_SPAM" && $0.score > 5 })
        #expect(spam.isSpam)
        #expect(ham.symbols.contains { $0.name == "BAYES_HAM" && $0.score < -2 })
        #expect(!ham.isSpam)
    }

    @Test func aMessageLearnedTwiceCountsOnceAndCanMoveOrBeForgotten() throws {
        let engine = try Self.trained()
        let m = Self.message(Self.spamWords, seed: 700)
        #expect(try engine.learn(m, as: .spam) == .learned)
        #expect(try engine.learn(m, as: .spam) == .alreadyLearned)
        #expect(engine.learnedCounts.spam == 6)
        #expect(try engine.learn(m, as: .ham) == .relearned(from: .spam))
        #expect((engine.learnedCounts.spam, engine.learnedCounts.ham) == (5, 6))
        #expect(try engine.forget(m) == .forgotten(.ham))
        #expect(try engine.forget(m) == .notLearned)
        #expect((engine.learnedCounts.spam, engine.learnedCounts.ham) == (5, 5))
    }

    @Test func theSameMessageWithCRLFOrLFIsTheSameMessage() throws {
        let engine = try Self.trained()
        let text = "From: a@example.org\nSubject: s\nMessage-ID: <dup@example.org>\n\nsame body\n"
        #expect(try engine.learn(MessageParser.parse(Array(text.utf8)), as: .spam) == .learned)
        #expect(try engine.learn(TestMessages.parse(text), as: .spam) == .alreadyLearned)
    }

    @Test func aStoredModelIsLoadedAgain() throws {
        let dir = NSTemporaryDirectory() + "moat-antispam-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Self.trained(store: LearnedModelStore(path: dir + "/model.sqlite"))
        let before = first.check(Self.message(Self.spamWords, seed: 500))
        let reopened = try SpamEngine(settings: AntiSpamSettings(minLearnedPerClass: 5),
                                      store: LearnedModelStore(path: dir + "/model.sqlite"))
        #expect(reopened.learnedCounts == first.learnedCounts)
        #expect(reopened.check(Self.message(Self.spamWords, seed: 500)) == before)
    }
}
