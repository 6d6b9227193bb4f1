/// How the archive of removed threats in a repacked message is protected.
///
/// `HMAC(secret)`: each archive's password is derived from the secret and an identifier the
/// repacked message carries, so the administrator can recover it later without a password list.
public enum RepackPassword: Sendable, Hashable, CustomStringConvertible {
    case none
    case plain(String)
    case hmac(secret: String)

    static let expected = "None, Plain(<password>) or HMAC(<secret>)"

    public init(parsing text: String) throws(ValueError) {
        let s = text.trimmingWhitespace()
        if s.lowercased() == "none" || s.isEmpty {
            self = .none
            return
        }
        for (name, make) in [("plain(", { RepackPassword.plain($0) }), ("hmac(", { RepackPassword.hmac(secret: $0) })]
        where s.lowercased().hasPrefix(name) {
            guard s.hasSuffix(")") else {
                throw ValueError("`\(text)` has no closing parenthesis", expected: Self.expected)
            }
            var inner = String(s.dropFirst(name.count).dropLast())
            if inner.count >= 2, inner.hasPrefix("\""), inner.hasSuffix("\"") {
                inner = String(inner.dropFirst().dropLast())
            }
            guard !inner.isEmpty else { throw ValueError("`\(text)` has an empty password", expected: Self.expected) }
            self = make(inner)
            return
        }
        throw ValueError("`\(text)` is not a repack password method", expected: Self.expected)
    }

    public var description: String {
        switch self {
        case .none: return "None"
        case .plain(let pw): return "Plain(\(pw))"
        case .hmac(let secret): return "HMAC(\(secret))"
        }
    }
}
