import Crypto
import Foundation
import Synchronization

/// One logged-in administrator.
struct ConsoleSession: Sendable {
    /// Put in every form as a hidden field and required back on every POST.
    let csrfToken: String
    let user: String
    let client: String
    let created: Date
    var lastUsed: Date
}

/// Sessions live in moatd's memory only: a random 256-bit token in a cookie names one, and it
/// ends after `idleTimeout` without a request, at logout, or when moatd stops. The table
/// holds SHA-256 digests of the tokens, never the tokens themselves.
final class ConsoleSessions: Sendable {
    static let cookieName = "moat_session"
    /// Sessions kept at most; beyond it the least recently used one ends.
    let capacity: Int
    private let sessions = Mutex<[String: ConsoleSession]>([:])

    init(capacity: Int = 256) {
        self.capacity = capacity
    }

    /// A new session; returns the token for the cookie.
    func create(user: String, client: String, now: Date = Date()) -> (token: String, session: ConsoleSession) {
        let token = SecureRandom.token()
        let session = ConsoleSession(csrfToken: SecureRandom.token(), user: user, client: client, created: now, lastUsed: now)
        sessions.withLock { table in
            table[Self.digest(token)] = session
            if table.count > capacity, let oldest = table.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                table[oldest] = nil
            }
        }
        return (token, session)
    }

    /// The session the token names, if it has not been idle too long; using it renews it.
    func use(_ token: String, idleTimeout: TimeInterval, now: Date = Date()) -> ConsoleSession? {
        let key = Self.digest(token)
        return sessions.withLock { table in
            guard var session = table[key] else { return nil }
            guard now.timeIntervalSince(session.lastUsed) <= idleTimeout else {
                table[key] = nil
                return nil
            }
            session.lastUsed = now
            table[key] = session
            return session
        }
    }

    func end(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: Self.digest(token)) }
    }

    var count: Int { sessions.withLock { $0.count } }

    private static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// `Set-Cookie` for a new session: not readable by scripts, sent only over HTTPS, never
    /// with requests other sites start, for the whole console.
    static func cookie(_ token: String) -> String {
        "\(cookieName)=\(token); Path=/; HttpOnly; Secure; SameSite=Strict"
    }

    static let expiredCookie = "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
}
