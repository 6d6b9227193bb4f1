import Glibc

/// How the daemon's one resolver is set up: `[Root] DnsResolver` and `[Root] DnsTrustAnchor`,
/// plus the bounds that keep a hostile or broken DNS from costing more than a query's time.
public struct ResolverConfiguration: Sendable, Equatable {
    public enum Upstream: Sendable, Equatable {
        /// The name servers of /etc/resolv.conf, as forwarders.
        case system
        /// These servers (`address` or `address@port`), as forwarders.
        case forward([String])
    }

    public var upstream: Upstream
    /// A file of DS or DNSKEY records (zone-file format), e.g. Debian's dns-root-data
    /// `/usr/share/dns/root.key`. nil: no file, and without `trustAnchors` every answer is
    /// insecure (nothing is validated, nothing can be bogus).
    public var trustAnchorFile: String?
    /// Trust anchors given as records, one DS or DNSKEY record a string (the tests' zones).
    public var trustAnchors: [String]
    /// A query not answered by then is cancelled and answered `.temporaryFailure`.
    public var queryTimeout: Duration
    /// Queries waiting or under way at once; more are answered `.temporaryFailure` at once.
    public var maxPendingQueries: Int
    /// Records in one answer; a larger answer is a temporary failure (no caller needs more).
    public var maxRecords: Int
    /// The rdata of one answer, all records together, in bytes.
    public var maxAnswerBytes: Int
    /// libunbound's caches (messages, record sets, keys), in bytes each: answers are kept
    /// for their TTL (at most `maxCacheTTL` seconds) within that memory.
    public var cacheBytes: Int
    public var maxCacheTTL: Int
    /// Answers kept in front of libunbound (`DNSAnswerCache`, at most `cacheBytes` of them),
    /// which a lookup gets without a thread hand-off; 0: none, every lookup asks libunbound.
    public var answerCacheEntries = 10_000
    /// Zones libunbound answers itself by default (RFC 6761/6762/7686: `test.`, `invalid.`,
    /// `onion.`, `local.`, reverse private ranges, ...) that are to be resolved upstream
    /// instead. The daemon leaves this empty; the tests' zones live under `test.`.
    public var upstreamReservedZones: [String] = []

    public static let debianRootKey = "/usr/share/dns/root.key"

    public init(upstream: Upstream = .system, trustAnchorFile: String? = ResolverConfiguration.debianRootKey,
                trustAnchors: [String] = [], queryTimeout: Duration = .seconds(5), maxPendingQueries: Int = 1024,
                maxRecords: Int = 64, maxAnswerBytes: Int = 16 * 1024, cacheBytes: Int = 4 << 20,
                maxCacheTTL: Int = 86_400) {
        self.upstream = upstream
        self.trustAnchorFile = trustAnchorFile
        self.trustAnchors = trustAnchors
        self.queryTimeout = queryTimeout
        self.maxPendingQueries = maxPendingQueries
        self.maxRecords = maxRecords
        self.maxAnswerBytes = maxAnswerBytes
        self.cacheBytes = cacheBytes
        self.maxCacheTTL = maxCacheTTL
    }

    /// From `[Root] DnsResolver` and `[Root] DnsTrustAnchor` (empty: no validation).
    public init(dnsResolver: String, dnsTrustAnchor: String, queryTimeout: Duration = .seconds(5)) throws(SyntaxError) {
        self.init(upstream: try Self.parseUpstream(dnsResolver),
                  trustAnchorFile: dnsTrustAnchor.isEmpty ? nil : dnsTrustAnchor, queryTimeout: queryTimeout)
    }

    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// `system`, or one or more `address[@port]` separated by commas or spaces
    /// (`[Root] DnsResolver`). Addresses are IPv4 or IPv6 literals: a resolver is not found by
    /// name.
    public static func parseUpstream(_ text: String) throws(SyntaxError) -> Upstream {
        let trimmed = text.trimmingWhitespace()
        if trimmed.lowercased() == "system" || trimmed.isEmpty { return .system }
        var servers: [String] = []
        for item in trimmed.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            let parts = item.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count <= 2, isAddress(String(parts[0])) else {
                throw SyntaxError(description: "`\(item)` is not an IP address with an optional @port")
            }
            if parts.count == 2 {
                guard let port = Int(parts[1]), (1...65535).contains(port) else {
                    throw SyntaxError(description: "`\(item)`: the port must be 1-65535")
                }
            }
            servers.append(String(item))
        }
        return .forward(servers)
    }

    static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
