import DNS
import Foundation

/// Answers libunbound gave, kept for their TTL in front of it.
///
/// libunbound caches too, but asking it costs four thread hand-offs: the caller to the
/// resolver thread, that thread to libunbound's worker and back, and the answer to the caller's
/// executor. The same few names are asked for message after message (the sender's SPF record,
/// `_dmarc` of the From domain, the blocklists for one client address), so an answer still
/// within its TTL is returned here at once, without leaving the caller's thread.
///
/// Only definite answers are kept (records, NXDOMAIN, no data), never a temporary failure or a
/// bogus one, and never longer than their TTL (capped at `maxTTL`). At most `capacity`
/// answers: when full, expired ones go first, then a quarter of the rest.
final class DNSAnswerCache: @unchecked Sendable {
    struct Key: Hashable {
        var name: String
        var type: DNSRecordType
    }

    private struct Entry {
        var answer: DNSAnswer
        var expires: ContinuousClock.Instant
    }

    let capacity: Int
    let maxTTL: Duration
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]

    init(capacity: Int, maxTTL: Duration) {
        self.capacity = capacity
        self.maxTTL = maxTTL
    }

    var count: Int { lock.withLock { entries.count } }

    /// The answer for `key` if one is kept and not expired at `now`, its TTL what is left of it.
    func answer(_ key: Key, now: ContinuousClock.Instant = .now) -> DNSAnswer? {
        lock.withLock {
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
            var answer = entry.answer
            answer.ttl = UInt32(clamping: max(1, (entry.expires - now).components.seconds))
            return answer
        }
    }

    func store(_ answer: DNSAnswer, for key: Key, now: ContinuousClock.Instant = .now) {
        guard capacity > 0, answer.ttl > 0, Self.isDefinite(answer) else { return }
        let life = min(Duration.seconds(answer.ttl), maxTTL)
        guard life > .zero else { return }
        lock.withLock {
            if entries[key] == nil, entries.count >= capacity { makeRoom(now: now) }
            entries[key] = Entry(answer: answer, expires: now + life)
        }
    }

    private static func isDefinite(_ answer: DNSAnswer) -> Bool {
        if case .bogus = answer.security { return false }
        switch answer.result {
        case .records, .nxdomain, .noData: return true
        case .temporaryFailure: return false
        }
    }

    /// Under `lock`.
    private func makeRoom(now: ContinuousClock.Instant) {
        entries = entries.filter { $0.value.expires > now }
        guard entries.count >= capacity else { return }
        // Still full of live answers: drop a quarter (in the dictionary's order, which is as
        // good as random), so that the next inserts do not each pay for a scan.
        for key in Array(entries.keys.prefix(max(1, capacity / 4))) { entries[key] = nil }
    }
}
