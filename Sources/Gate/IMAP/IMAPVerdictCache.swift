import NIOCore

/// What the session knows of whole messages, for their partial fetches: verdicts of its own
/// checks, known-bad notes from the core's cross-connection list, and messages too large to
/// check. Bounded (`capacity`): the oldest entry goes first; a new verdict for a known message
/// replaces it without moving it.
struct IMAPVerdictCache: Sendable {
    let capacity: Int
    private var verdicts: [IMAPMessageKey: IMAPKnownVerdict] = [:]
    private var order = CircularBuffer<IMAPMessageKey>()
    /// Whole-message checks in flight, by the message they are about.
    private var awaited: [MailCheckID: IMAPMessageKey] = [:]

    init(capacity: Int) {
        self.capacity = capacity
    }

    subscript(key: IMAPMessageKey) -> IMAPKnownVerdict? { verdicts[key] }

    var count: Int { verdicts.count }

    mutating func record(_ key: IMAPMessageKey, _ verdict: IMAPKnownVerdict) {
        if verdicts.updateValue(verdict, forKey: key) != nil { return }
        order.append(key)
        while order.count > capacity {
            verdicts.removeValue(forKey: order.removeFirst())
        }
    }

    /// A check's outcome: a replacement means bad.
    mutating func record(_ key: IMAPMessageKey, _ verdict: MailCheckVerdict) {
        if case .deliver = verdict { record(key, .bad) } else { record(key, .clean) }
    }

    /// A message that could not be checked, unless something better is known.
    mutating func recordUnchecked(_ key: IMAPMessageKey) {
        if verdicts[key] == nil { record(key, .unchecked) }
    }

    /// The check `id` is about `key`: its verdict is recorded by `settle`.
    mutating func await(_ id: MailCheckID, for key: IMAPMessageKey) {
        awaited[id] = key
    }

    mutating func settle(_ id: MailCheckID, _ verdict: MailCheckVerdict) {
        if let key = awaited.removeValue(forKey: id) { record(key, verdict) }
    }

    /// Nothing learnt before TLS counts (RFC 9051 11.1). Checks in flight keep their keys.
    mutating func removeVerdicts() {
        verdicts.removeAll()
        order.removeAll()
    }
}
