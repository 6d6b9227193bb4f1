import Storage

/// The statistical model in memory (feature counts and class sizes), mirrored to a
/// `LearnedModelStore` when there is one. Scoring reads memory only; learning writes the
/// store first, then memory, so a failed write changes nothing.
final class LearnedModel: Sendable {
    struct State {
        var counts: [UInt64: FeatureCounts] = [:]
        var spamMessages = 0
        var hamMessages = 0
        /// Digests learned without a store (benchmarks, tests): dedupe in memory.
        var learned: [String: LearnedClass] = [:]
    }

    private let store: LearnedModelStore?
    private let state: Locked<State>

    /// A model in memory only, starting empty.
    init() {
        store = nil
        state = Locked(State())
    }

    init(store: LearnedModelStore?) throws {
        self.store = store
        var initial = State()
        if let store {
            for row in try store.allFeatureCounts() {
                initial.counts[UInt64(bitPattern: row.feature)] = FeatureCounts(
                    spam: UInt32(clamping: row.spam), ham: UInt32(clamping: row.ham))
            }
            let learned = try store.learnedCounts()
            initial.spamMessages = learned[.spam] ?? 0
            initial.hamMessages = learned[.ham] ?? 0
        }
        state = Locked(initial)
    }

    var learnedCounts: (spam: Int, ham: Int) { state.withLock { ($0.spamMessages, $0.hamMessages) } }
    var featureCount: Int { state.withLock { $0.counts.count } }

    func classify(_ features: Set<UInt64>, with classifier: BayesClassifier) -> BayesClassifier.Result {
        state.withLock { s in
            classifier.classify(features, counts: { s.counts[$0] }, spamMessages: s.spamMessages, hamMessages: s.hamMessages)
        }
    }

    func learn(digest: String, as learnedClass: LearnedClass, features: Set<UInt64>) throws -> LearnOutcome {
        let outcome: LearnOutcome
        if let store {
            outcome = try store.learn(digest: digest, as: learnedClass, features: features.map { Int64(bitPattern: $0) })
        } else {
            outcome = state.withLock { s in
                let previous = s.learned[digest]
                if previous == learnedClass { return .alreadyLearned }
                s.learned[digest] = learnedClass
                return previous.map { .relearned(from: $0) } ?? .learned
            }
        }
        state.withLock { s in
            switch outcome {
            case .learned:
                Self.add(features, to: learnedClass, delta: 1, in: &s)
            case .relearned(let from):
                Self.add(features, to: from, delta: -1, in: &s)
                Self.add(features, to: learnedClass, delta: 1, in: &s)
            default:
                break
            }
        }
        return outcome
    }

    func forget(digest: String, features: Set<UInt64>) throws -> LearnOutcome {
        let outcome: LearnOutcome
        if let store {
            outcome = try store.forget(digest: digest, features: features.map { Int64(bitPattern: $0) })
        } else {
            outcome = state.withLock { s in
                guard let previous = s.learned.removeValue(forKey: digest) else { return .notLearned }
                return .forgotten(previous)
            }
        }
        if case .forgotten(let previous) = outcome {
            state.withLock { Self.add(features, to: previous, delta: -1, in: &$0) }
        }
        return outcome
    }

    private static func add(_ features: Set<UInt64>, to learnedClass: LearnedClass, delta: Int, in s: inout State) {
        if learnedClass == .spam { s.spamMessages += delta } else { s.hamMessages += delta }
        for feature in features {
            var c = s.counts[feature] ?? FeatureCounts(spam: 0, ham: 0)
            if learnedClass == .spam {
                c.spam = UInt32(clamping: Int(c.spam) + delta)
            } else {
                c.ham = UInt32(clamping: Int(c.ham) + delta)
            }
            if c.spam == 0 && c.ham == 0 { s.counts[feature] = nil } else { s.counts[feature] = c }
        }
    }
}
