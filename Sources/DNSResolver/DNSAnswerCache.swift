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
/// answers and `maxBytes` of them (a sender controls names such as DKIM selectors, and an
/// answer may hold 16 KB): when full, expired ones go first, then a quarter of the rest.
final class DNSAnswerCache: @unchecked Sendable {
    struct Key: Hashable {
        var name: String
        var type: DNSRecordType
    }

    private struct Entry {
        var answer: DNSAnswer
        var expires: ContinuousClock.Instant
        var bytes: Int
    }

    let capacity: Int
    let maxBytes: Int
    let maxTTL: Duration
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    /// The bytes of `entries`, as `Self.bytes` counts them. Under `lock`.
    private var bytes = 0

    init(capacity: Int, maxBytes: Int = 4 << 20, maxTTL: Duration) {
        self.capacity = capacity
        self.maxBytes = maxBytes
        self.maxTTL = maxTTL
    }

    var storedBytes: Int { lock.withLock { bytes } }

    var count: Int { lock.withLock { entries.count } }

    /// The answer for `key` if one is kept and not expired at `now`, its TTL what is left of it.
    func answer(_ key: Key, now: ContinuousClock.Instant = .now) -> DNSAnswer? {
        lock.withLock {
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                remove(key)
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
        let size = Self.bytes(of: key, answer)
        guard life > .zero, size <= maxBytes / 4 else { return }
        lock.withLock {
            remove(key)
            if entries.count >= capacity || bytes + size > maxBytes { makeRoom(now: now, for: size) }
            entries[key] = Entry(answer: answer, expires: now + life, bytes: size)
            bytes += size
        }
    }

    /// What an answer holds in memory, roughly: its records' data, its name, and a fixed
    /// overhead per entry and record.
    static func bytes(of key: Key, _ answer: DNSAnswer) -> Int {
        answer.records.reduce(128 + key.name.utf8.count) { total, record in
            switch record {
            case .a(let b), .aaaa(let b): total + 32 + b.count
            case .txt(let strings): total + 32 + strings.reduce(0) { $0 + 16 + $1.count }
            case .mx(_, let name), .ptr(let name), .cname(let name): total + 32 + name.utf8.count
            case .tlsa(_, _, _, let data): total + 32 + data.count
            }
        }
    }

    /// Under `lock`.
    private func remove(_ key: Key) {
        if let old = entries.removeValue(forKey: key) { bytes -= old.bytes }
    }

    private static func isDefinite(_ answer: DNSAnswer) -> Bool {
        if case .bogus = answer.security { return false }
        switch answer.result {
        case .records, .nxdomain, .noData: return true
        case .temporaryFailure: return false
        }
    }

    /// Under `lock`.
    private func makeRoom(now: ContinuousClock.Instant, for size: Int) {
        for (key, entry) in entries where entry.expires <= now { remove(key) }
        guard entries.count >= capacity || bytes + size > maxBytes else { return }
        // Still full of live answers: drop a quarter of them and of their bytes at least (in
        // the dictionary's order, which is as good as random), so that the next inserts do
        // not each pay for a scan.
        let keepCount = capacity - max(1, capacity / 4), keepBytes = maxBytes - maxBytes / 4 - size
        for key in Array(entries.keys) where entries.count > keepCount || bytes > keepBytes { remove(key) }
    }
}
