import Foundation
import Synchronization

/// Login attempts per client address: after `maxFailures` failed attempts the address is
/// locked out for `lockout`, even for the right password. Attempts still being checked count
/// too, so many logins sent at once cannot start many slow password checks. A success clears
/// the address's record; failures older than `window` are forgotten.
final class LoginThrottle: Sendable {
    struct Policy: Sendable {
        var maxFailures = 5
        var lockout: TimeInterval = 60
        var window: TimeInterval = 15 * 60
        /// Addresses remembered at most; the oldest unlocked ones are dropped beyond it.
        var capacity = 10_000
    }

    enum Admission: Equatable {
        case allowed
        case locked(until: Date)
    }

    private struct Record {
        /// Failed attempts plus attempts in progress.
        var attempts = 0
        var lastAttempt = Date.distantPast
        var lockedUntil: Date?
    }

    let policy: Policy
    private let records = Mutex<[String: Record]>([:])

    init(policy: Policy = Policy()) {
        self.policy = policy
    }

    /// Before checking a password. `.allowed` must be followed by `finish`.
    func begin(_ client: String, now: Date = Date()) -> Admission {
        records.withLock { records in
            var record = records[client] ?? Record()
            if let until = record.lockedUntil, until > now { return .locked(until: until) }
            if record.lockedUntil != nil || now.timeIntervalSince(record.lastAttempt) > policy.window {
                record = Record()
            }
            if record.attempts >= policy.maxFailures {
                let until = now.addingTimeInterval(policy.lockout)
                record.lockedUntil = until
                records[client] = record
                return .locked(until: until)
            }
            record.attempts += 1
            record.lastAttempt = now
            records[client] = record
            if records.count > policy.capacity { Self.prune(&records, now: now, window: policy.window) }
            return .allowed
        }
    }

    /// After the check. Returns the end of the lockout this failure started, if it did.
    @discardableResult
    func finish(_ client: String, succeeded: Bool, now: Date = Date()) -> Date? {
        records.withLock { records in
            if succeeded {
                records[client] = nil
                return nil
            }
            guard var record = records[client] else { return nil }
            guard record.attempts >= policy.maxFailures, record.lockedUntil == nil else { return nil }
            let until = now.addingTimeInterval(policy.lockout)
            record.lockedUntil = until
            records[client] = record
            return until
        }
    }

    private static func prune(_ records: inout [String: Record], now: Date, window: TimeInterval) {
        records = records.filter { _, record in
            if let until = record.lockedUntil { return until > now }
            return now.timeIntervalSince(record.lastAttempt) <= window
        }
    }
}
