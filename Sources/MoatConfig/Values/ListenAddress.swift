/// Where an interface listens or a peer is reached: a UNIX socket or a TCP host and port.
///
/// Accepts the spellings administrators bring from Dr.Web and from MTA configurations:
/// `/path`, `unix:/path`, `local:/path` (Postfix), `host:port`, `[v6]:port`,
/// `inet:port@host` and `inet6:port@host` (Sendmail and Postfix milter syntax).
public enum ListenAddress: Sendable, Hashable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int)

    static let expected =
        "a UNIX socket path (/run/moat/x.sock, unix:/path) or host:port ([::1]:port, inet:port@host, inet6:port@host)"

    public init(parsing text: String) throws(ValueError) {
        let s = text.trimmingWhitespace()
        func bad(_ why: String) -> ValueError { ValueError("`\(text)` \(why)", expected: Self.expected) }
        if s.hasPrefix("/") {
            self = .unix(path: s)
            return
        }
        let lower = s.lowercased()
        for prefix in ["unix:", "local:"] where lower.hasPrefix(prefix) {
            let path = String(s.dropFirst(prefix.count))
            guard path.hasPrefix("/") else { throw bad("does not give an absolute socket path") }
            self = .unix(path: path)
            return
        }
        for prefix in ["inet:", "inet6:"] where lower.hasPrefix(prefix) {
            let rest = s.dropFirst(prefix.count)
            guard let at = rest.firstIndex(of: "@") else { throw bad("has no @host after the port") }
            let port = try Self.port(rest[..<at], text)
            var host = String(rest[rest.index(after: at)...])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw bad("has an empty host") }
            if prefix == "inet6:", !host.contains(":"), host.lowercased() != "localhost" {
                throw bad("is inet6 but `\(host)` is not an IPv6 address")
            }
            self = .tcp(host: host, port: port)
            return
        }
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw bad("has no closing ] after the IPv6 address") }
            let host = String(s[s.index(after: s.startIndex)..<close])
            let after = s[s.index(after: close)...]
            guard after.hasPrefix(":"), !host.isEmpty else { throw bad("has no :port after the IPv6 address") }
            self = .tcp(host: host, port: try Self.port(after.dropFirst(), text))
            return
        }
        guard let colon = s.lastIndex(of: ":") else { throw bad("is neither a socket path nor host:port") }
        let host = String(s[..<colon])
        guard !host.isEmpty else { throw bad("has an empty host") }
        guard !host.contains(":") else { throw bad("is an IPv6 address without brackets") }
        self = .tcp(host: host, port: try Self.port(s[s.index(after: colon)...], text))
    }

    private static func port(_ digits: Substring, _ text: String) throws(ValueError) -> Int {
        guard let port = Int(digits), (1...65535).contains(port) else {
            throw ValueError("`\(text)` has a port that is not a number from 1 to 65535", expected: expected)
        }
        return port
    }

    public var description: String {
        switch self {
        case .unix(let path): return path
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}
