import Synchronization

/// What all messages the Gate is receiving or holding may take together, in memory and in
/// spool files. Without it, a few hundred clients each sending up to MaxMessageSize fill the
/// disk (and the spool directory is where every other message waits too). Shared by every
/// connection of one Gate; each message reserves what it stores and gives it back when it is
/// sent, refused or dropped.
final class SpoolQuota: Sendable {
    private let used = Mutex<Int>(0)
    private let limit: Mutex<Int>

    init(limit: Int) {
        self.limit = Mutex(limit)
    }

    /// A reload may change the bound; messages already held keep what they have.
    func setLimit(_ bytes: Int) { limit.withLock { $0 = bytes } }

    /// Takes `bytes` if they fit; false (nothing taken) when they do not.
    func reserve(_ bytes: Int) -> Bool {
        let bound = limit.withLock { $0 }
        return used.withLock { used in
            guard bytes >= 0, used <= bound, bytes <= bound - used else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        used.withLock { $0 = max(0, $0 - bytes) }
    }

    var inUse: Int { used.withLock { $0 } }
}
