import Synchronization

/// Which anti-spam symbols fired in the last messages, for the console: the last `capacity`
/// verdicts' symbols, counted. Bounded however much mail flows.
public final class RecentSpamSymbols: Sendable {
    public struct Count: Sendable, Codable, Equatable {
        public var name: String
        /// Messages among the recent ones in which it fired.
        public var messages: Int

        public init(name: String, messages: Int) {
            self.name = name
            self.messages = messages
        }
    }

    private struct State {
        var recent: [[String]] = []
        var next = 0
        var counts: [String: Int] = [:]
    }

    private let state = Mutex(State())
    let capacity: Int

    public init(capacity: Int = 1000) {
        self.capacity = max(1, capacity)
    }

    func record(_ symbols: [String]) {
        state.withLock { state in
            if state.recent.count == capacity {
                for name in state.recent[state.next] {
                    state.counts[name, default: 1] -= 1
                    if state.counts[name] == 0 { state.counts[name] = nil }
                }
                state.recent[state.next] = symbols
            } else {
                state.recent.append(symbols)
            }
            state.next = (state.next + 1) % capacity
            for name in symbols { state.counts[name, default: 0] += 1 }
        }
    }

    /// The symbols that fired most, most first (ties by name).
    public func top(_ count: Int = 10) -> [Count] {
        state.withLock { state in
            state.counts.map { Count(name: $0.key, messages: $0.value) }
                .sorted { $0.messages != $1.messages ? $0.messages > $1.messages : $0.name < $1.name }
                .prefix(count).map { $0 }
        }
    }
}
