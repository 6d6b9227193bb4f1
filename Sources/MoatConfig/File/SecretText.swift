import Foundation

/// How a secret parameter is shown outside the configuration file: the part that is the
/// secret is replaced, the rest stays so the administrator still sees what is set.
///
/// - `postgresql://moat:pw@db:5432/moat` → `postgresql://moat:****@db:5432/moat` (no
///   password: unchanged, there is nothing to hide);
/// - `HMAC(secret)`, `Plain(pw)` → `HMAC(****)`, `Plain(****)`; a bare word such as `None`
///   stays;
/// - any other non-empty value → `****`.
public enum SecretText {
    public static let mask = "****"

    public static func masked(_ text: String) -> String {
        if text.isEmpty { return text }
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            guard let at = rest.lastIndex(of: "@") else { return text }
            let userInfo = rest[..<at]
            guard let colon = userInfo.firstIndex(of: ":") else { return text }
            return String(text[..<colon]) + ":" + mask + String(rest[at...])
        }
        if let open = text.firstIndex(of: "("), text.hasSuffix(")"),
           text[..<open].allSatisfy({ $0.isLetter }) {
            return String(text[...open]) + mask + ")"
        }
        if text.allSatisfy({ $0.isLetter }), ["none", "no"].contains(text.lowercased()) { return text }
        return mask
    }
}

extension ConfigValues {
    /// `shownLines`, with a secret parameter's value masked (`SecretText`).
    public func shownLinesHidingSecrets(_ key: ParameterKey, valueOnly: Bool = false) -> [String] {
        guard schema.spec(key)?.isSecret == true else { return shownLines(key, valueOnly: valueOnly) }
        let text = SecretText.masked(formatted(key))
        if valueOnly { return [text] }
        return [text.isEmpty ? "\(key) =" : "\(key) = \(text)"]
    }
}
