import Synchronization

/// IMAP messages whose whole-message check ended in a replacement, remembered across
/// connections: a client that later fetches such a message by parts or byte ranges (which are
/// not scanned) gets empty content. Scoped by server and client address, because a message key
/// (mailbox, UIDVALIDITY, UID) names a message only within one account; the client address
/// stands in for the account, which the relay does not parse. Bounded: the oldest go first.
public final class KnownBadMessages: Sendable {
    struct Scope: Hashable, Sendable {
        var server: String
        var client: String
    }

    private struct State {
        var keys: [Scope: [IMAPMessageKey]] = [:]
        var order: [Scope] = []
    }

    private let state = Mutex(State())
    let perScope: Int
    let scopes: Int

    public init(perScope: Int = 1024, scopes: Int = 4096) {
        self.perScope = perScope
        self.scopes = scopes
    }

    func note(_ key: IMAPMessageKey, in scope: Scope) {
        state.withLock { state in
            if state.keys[scope] == nil {
                state.order.append(scope)
                if state.order.count > scopes { state.keys[state.order.removeFirst()] = nil }
            }
            var keys = state.keys[scope] ?? []
            guard !keys.contains(key) else { return }
            keys.append(key)
            if keys.count > perScope { keys.removeFirst(keys.count - perScope) }
            state.keys[scope] = keys
        }
    }

    func keys(_ scope: Scope) -> [IMAPMessageKey] {
        state.withLock { $0.keys[scope] ?? [] }
    }
}
