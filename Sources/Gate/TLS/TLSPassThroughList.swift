import Synchronization

/// Client/server pairs whose TLS the Gate relays untouched for a while instead of unwrapping:
/// a client that refused Moat's certificate (it does not trust Moat's CA, or pins the server's
/// own), or — with `UpstreamVerifyFailure = Relay` — a server whose certificate failed
/// verification after STARTTLS (`client` nil: every client of that server). Without this, such
/// a client would fail on every retry and its mail would never move.
///
/// Bounded: past `capacity` entries the one closest to expiry goes first. Entries expire, so a
/// client that later installs Moat's CA is unwrapped (and scanned) again.
public final class TLSPassThroughList: Sendable {
    public struct Pair: Hashable, Sendable {
        /// The client's address; nil: any client.
        public var client: String?
        /// "address:port" of the server.
        public var server: String

        public init(client: String?, server: String) {
            self.client = client
            self.server = server
        }
    }

    private let entries = Mutex<[Pair: ContinuousClock.Instant]>([:])
    let capacity: Int

    public init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    func add(_ pair: Pair, for duration: Duration, now: ContinuousClock.Instant = .now) {
        guard duration > .zero else { return }
        entries.withLock { entries in
            entries[pair] = now + duration
            if entries.count > capacity {
                entries = entries.filter { $0.value > now }
                while entries.count > capacity, let oldest = entries.min(by: { $0.value < $1.value }) {
                    entries[oldest.key] = nil
                }
            }
        }
    }

    /// True when the pair, or the server for every client, is to be relayed untouched.
    func contains(_ pair: Pair, now: ContinuousClock.Instant = .now) -> Bool {
        entries.withLock { entries in
            for key in [pair, Pair(client: nil, server: pair.server)] {
                guard let until = entries[key] else { continue }
                if until > now { return true }
                entries[key] = nil
            }
            return false
        }
    }

    public var count: Int { entries.withLock { $0.count } }
}
