import DNS

/// Asks DNS blocklists about the client address (`zones`, RFC 5782: IPv4 as reversed octets,
/// IPv6 as reversed nibbles, under the zone) and URI blocklists about the hosts of the
/// message's links (`uriZones`: each host name and its registered domain, an address host in
/// the reversed form). Queries run a few at a time; none starts after `deadline`, and a zone
/// that does not answer is no listing (a blocklist is advice, never a reason to defer mail).
public struct BlocklistChecker: Sendable {
    public let lookup: any DNSLookup
    public var zones: [BlocklistZone]
    public var uriZones: [BlocklistZone]
    public var deadline: Duration
    /// URL hosts looked up per message; the first ones (in the order given) are kept.
    public var maxHosts: Int
    public var concurrency: Int
    /// The registered domain of a host name (`www.shop.example.co.uk` -> `example.co.uk`).
    /// MailD passes the Public Suffix List's answer; the default takes the last two labels.
    public var registeredDomain: @Sendable (String) -> String?

    public init(lookup: any DNSLookup, zones: [BlocklistZone], uriZones: [BlocklistZone] = [],
                deadline: Duration = .seconds(10), maxHosts: Int = 20, concurrency: Int = 8,
                registeredDomain: @escaping @Sendable (String) -> String? = { BlocklistChecker.lastTwoLabels($0) }) {
        self.lookup = lookup
        self.zones = zones
        self.uriZones = uriZones
        self.deadline = deadline
        self.maxHosts = maxHosts
        self.concurrency = max(1, concurrency)
        self.registeredDomain = registeredDomain
    }

    public static func lastTwoLabels(_ host: String) -> String? {
        let labels = host.split(separator: ".")
        guard labels.count >= 2 else { return nil }
        return labels.suffix(2).joined(separator: ".")
    }

    /// `clientIP` against `zones` and `urlHosts` against `uriZones`; hits in the order of the
    /// zones, then of the hosts.
    public func check(clientIP: String?, urlHosts: [String] = []) async -> [BlocklistHit] {
        var queries: [Query] = []
        if let clientIP, let address = SPFAddress(clientIP) {
            for zone in zones {
                queries.append(Query(zone: zone, listed: address.description, name: address.reversedLabels + "." + zone.zone))
            }
        }
        for host in Self.candidates(urlHosts, maxHosts: maxHosts, registeredDomain: registeredDomain) {
            for zone in uriZones {
                let name = SPFAddress(host).map { $0.reversedLabels } ?? host
                queries.append(Query(zone: zone, listed: host, name: name + "." + zone.zone))
            }
        }
        return await run(queries)
    }

    struct Query: Sendable {
        var zone: BlocklistZone
        var listed: String
        var name: String
    }

    /// Host names lower-cased and deduplicated, each followed by its registered domain,
    /// address literals as they are; at most `maxHosts` in all.
    static func candidates(_ hosts: [String], maxHosts: Int, registeredDomain: (String) -> String?) -> [String] {
        var seen: Set<String> = []
        var out: [String] = []
        for raw in hosts {
            var host = raw.lowercased().trimmingDots()
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty, host.utf8.count <= 253 else { continue }
            var names = [host]
            if SPFAddress(host) == nil, let domain = registeredDomain(host) { names.append(domain) }
            for name in names where !seen.contains(name) {
                guard out.count < maxHosts else { return out }
                seen.insert(name)
                out.append(name)
            }
        }
        return out
    }

    private func run(_ queries: [Query]) async -> [BlocklistHit] {
        let end = ContinuousClock.now.advanced(by: deadline)
        var results = [BlocklistHit?](repeating: nil, count: queries.count)
        // Index -1 is the deadline: when it comes first, the queries still under way are
        // cancelled (they end at once) and the hits found so far are the answer.
        await withTaskGroup(of: (Int, BlocklistHit?).self) { group in
            var next = 0
            var outstanding = 0
            var expired = false
            func startNext() {
                guard !expired, next < queries.count, ContinuousClock.now < end else { return }
                let index = next
                let query = queries[index]
                next += 1
                outstanding += 1
                group.addTask {
                    let answer = await lookup.lookup(query.name, .a)
                    let addresses = answer.records.compactMap { record -> [UInt8]? in
                        if case .a(let bytes) = record { return bytes } else { return nil }
                    }
                    guard let listing = query.zone.listing(addresses) else { return (index, nil) }
                    return (index, BlocklistHit(zone: query.zone.zone, listed: query.listed,
                                                codes: listing.codes, meanings: listing.meanings))
                }
            }
            guard !queries.isEmpty else { return }
            group.addTask {
                try? await Task.sleep(until: end)
                return (-1, nil)
            }
            for _ in 0..<concurrency { startNext() }
            for await (index, hit) in group {
                guard index >= 0 else {
                    expired = true
                    group.cancelAll()
                    continue
                }
                results[index] = hit
                outstanding -= 1
                startNext()
                // Every query answered: the deadline's task is not needed any more.
                if outstanding == 0 { group.cancelAll() }
            }
        }
        return results.compactMap { $0 }
    }
}
