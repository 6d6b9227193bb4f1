/// The value of an Authentication-Results header field (RFC 8601 §2.2), one line (front-ends
/// fold it if they must), for what sender
/// authentication found, named by the administrator's authserv-id.
///
/// Every value that came from the message or DNS (domains, selectors) is written as a token
/// when it is one and as a quoted-string otherwise, so a hostile `d=` cannot add properties
/// or results of its own.
public enum AuthenticationResultsHeader {
    public static let name = "Authentication-Results"

    public static func value(authservId: String, _ auth: SenderAuthentication) -> String {
        var results: [String] = []
        if let spf = auth.spf {
            results.append("spf=\(spf.result.rawValue) smtp.mailfrom=\(quoted(spf.domain))")
        }
        if let helo = auth.heloSPF {
            results.append("spf=\(helo.result.rawValue) smtp.helo=\(quoted(helo.domain))")
        }
        for signature in auth.dkim {
            var entry = "dkim=\(signature.result.rawValue)"
            if !signature.reason.isEmpty, signature.result != .pass { entry += " reason=\(quotedAlways(signature.reason))" }
            entry += " header.d=\(quoted(signature.domain)) header.s=\(quoted(signature.selector))"
            entry += " header.a=\(quoted(signature.algorithm))"
            if !signature.signaturePrefix.isEmpty { entry += " header.b=\(quoted(signature.signaturePrefix))" }
            results.append(entry)
        }
        if auth.dkim.isEmpty, auth.dmarc != nil || auth.spf != nil {
            results.append("dkim=none")
        }
        if let dmarc = auth.dmarc {
            var entry = "dmarc=\(dmarc.result.rawValue)"
            if let policy = dmarc.policy { entry += " (p=\(policy.rawValue))" }
            entry += " header.from=\(quoted(dmarc.fromDomain))"
            results.append(entry)
        }
        if let arc = auth.arc {
            results.append("arc=\(arc.result.rawValue)" + (arc.instances > 0 ? " (i=\(arc.instances))" : ""))
        }
        let id = quoted(authservId.isEmpty ? "localhost" : authservId)
        guard !results.isEmpty else { return "\(id); none" }
        return ([id] + results).joined(separator: "; ")
    }

    /// RFC 2045 token characters (what RFC 8601 `value` allows unquoted), with the dots and
    /// hyphens of domain names.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            byte > 32 && byte < 127 && !"()<>@,;:\\\"/[]?=".utf8.contains(byte)
        }
    }

    static func quoted(_ text: String) -> String {
        isToken(text) ? text : quotedAlways(text)
    }

    /// A quoted-string: printable ASCII only, `"` and `\` escaped, at most 200 characters.
    static func quotedAlways(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars.prefix(200) {
            switch scalar {
            case "\"", "\\": out += "\\\(scalar)"
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "?"
            }
        }
        return out + "\""
    }
}
