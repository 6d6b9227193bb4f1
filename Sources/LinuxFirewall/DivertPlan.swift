import MoatConfig

/// What Moat installs for `[LinuxFirewall] InputDivert = Auto(interface:<if> protected:<ports>)`,
/// computed from the settings alone: no kernel, no sockets. The same plan is rendered as
/// nftables text (`nft/moat-divert.nft`, `moat-ctl`, logs) and built as libnftnl objects in one
/// netlink batch (`NftBatch`), so the two cannot drift apart.
///
/// The ruleset (own table, prerouting at mangle priority, as in the kernel's tproxy.rst):
///
/// 1. `ct mark & M == M accept`: a connection the kernel decided not to divert at its first
///    packet (rules 3 and 4) stays forwarded for its whole life, whatever happens to the sets or
///    the table later (a pair's element expires, a reload rebuilds the table or diverts the port
///    again): the conntrack mark is the decision, and checking it first keeps the per-packet
///    cost of such a connection to one conntrack lookup.
/// 2. `meta l4proto tcp socket transparent 1 socket wildcard 0 meta mark set M accept`:
///    packets of an existing transparent socket (the Gate's accepted connections, and the
///    replies to its upstream legs when it connects from the client's address) are marked and
///    routed locally. `socket wildcard 0` keeps the Gate's wildcard listener itself out of it.
/// 3. `ct state new tcp dport @exempt_ports ct mark set ct mark | M accept`: protected ports the
///    Gate would only relay blindly (`notDiverted`: their protocol not inspected, implicit TLS
///    never unwrapped, ports without a protocol Moat knows; decided by the Gate's rules, wired
///    in moatd) are left to the kernel, which forwards them at full speed.
/// 4. `ct state new ip saddr . ip daddr . tcp dport @passthrough_v4 ct mark set ct mark | M accept`
///    and the same with `ip6`: the first packet of a connection whose pair the Gate learned (a
///    client that refused Moat's certificate on an implicit-TLS port, `TLSPassThroughList`)
///    marks the connection: the kernel forwards it and the Gate never sees it. The sets are
///    bounded (`size`, `defaultPassThroughCapacity`) and their elements carry the pass-through's
///    time-out; moatd adds them over its owning netlink socket. A reload that rebuilds the table
///    starts with empty sets (connections already marked keep flowing; new ones are learned
///    again by the Gate). After rule 2, so a connection the Gate already holds for that pair
///    stays with it; `ct state new`, so the decision is the connection's first packet's.
/// 5. `iifname "<if>" tcp dport @protected_ports tproxy ip to :GatePort meta mark set M accept`
///    and the same with `ip6`: new connections arriving on the interface to a diverted port go
///    to the Gate's IP_TRANSPARENT listener; `getsockname()` there gives the original destination.
///
/// Moat's own upstream connections are never diverted again: they leave through the output
/// hook, which this table does not hook, and their replies either carry an ephemeral destination
/// port (not a protected one) or belong to a transparent socket and are accepted by rule 2
/// before rule 5 is looked at. The `ct` rules need connection tracking (nf_conntrack): they
/// enable it in the namespace. The bits of `FirewallMark` in the conntrack mark are
/// Moat's: another ruleset setting them on a connection makes it bypass the Gate.
///
/// Policy routing (rtnetlink): `ip rule add fwmark M lookup T` and
/// `ip route add local 0.0.0.0/0 dev lo table T`, and the same for IPv6 (`local ::/0`).
///
/// No NFQUEUE: the per-connection decision is a set lookup on the connection's first packet,
/// made in the kernel from what the Gate learned; no packet is queued to userspace and
/// libnetfilter_queue is not linked.
///
/// Host settings the divert needs (documented, not changed by Moat): `net.ipv4.ip_forward=1`
/// (and `net.ipv6.conf.all.forwarding=1`) when the host routes the protected traffic;
/// `net.ipv4.conf.<if>.rp_filter=0` or `2` (strict reverse-path filtering drops diverted
/// packets whose source is not routed back through `<if>`); `net.ipv4.conf.<if>.send_redirects=0`
/// (else same-LAN clients are ICMP-redirected around the gateway). An input-chain `policy drop`
/// in another table must accept `meta mark M`, since an `accept` here ends only this table's chain.
public struct DivertPlan: Sendable, Hashable {
    public static let family = "inet"
    public static let tableName = "moat"
    public static let setName = "protected_ports"
    /// The protected ports left to the kernel (`notDiverted`).
    public static let exemptSetName = "exempt_ports"
    /// The learned pass-through pairs, `client . server . port`, per address family.
    public static let passThroughSetNames: [IPFamily: String] = [.ipv4: "passthrough_v4", .ipv6: "passthrough_v6"]
    /// At most this many pairs per family in the kernel: a client cannot make the sets take
    /// more kernel memory than that. When a set is full the Gate relays the pair in userspace.
    public static let defaultPassThroughCapacity = 65_536
    public static let chainName = "prerouting"
    /// `priority mangle`.
    public static let chainPriority: Int32 = -150

    /// The interface whose incoming connections are diverted.
    public var interface: String
    /// The configured ports, sorted, without duplicates.
    public var protectedPorts: [Int]
    /// Protected ports left out of the divert, with the reason (the Gate would only relay them blindly).
    public var notDiverted: [Int: String]
    /// The ports the kernel sends to the Gate: `protectedPorts` without `notDiverted`.
    public var divertedPorts: [Int] { protectedPorts.filter { notDiverted[$0] == nil } }
    /// The Gate's IP_TRANSPARENT listener, the TPROXY target.
    public var gatePort: Int
    public var mark: UInt32
    public var routingTable: UInt32
    /// True: the table has no owner and outlives moatd (mail stops when moatd dies). False (the
    /// default): the table is owned by moatd's netlink socket and the kernel removes it when
    /// moatd exits for any reason, so a crash lets mail flow unscanned instead of black-holing it.
    public var failClosed: Bool
    /// The `size` of each pass-through set.
    public var passThroughCapacity = DivertPlan.defaultPassThroughCapacity

    public init(interface: String, protectedPorts: [Int], gatePort: Int = 20025, mark: UInt32 = 1,
                routingTable: UInt32 = 100, failClosed: Bool = false, notDiverted: [Int: String] = [:]) {
        self.interface = interface
        self.protectedPorts = Array(Set(protectedPorts)).sorted()
        self.notDiverted = notDiverted.filter { protectedPorts.contains($0.key) }
        self.gatePort = gatePort
        self.mark = mark
        self.routingTable = routingTable
        self.failClosed = failClosed
    }

    /// The plan for the settings, or nil when `InputDivert` is Off. `notDiverted` says why a
    /// protected port need not be diverted (nil: divert it); moatd asks the Gate.
    public init?(values: ConfigValues, notDiverted: (Int) -> String? = { _ in nil }) {
        let settings = values.linuxFirewall
        guard case .auto(let interface, let ports) = settings.inputDivert else { return nil }
        var skipped: [Int: String] = [:]
        for port in ports { if let why = notDiverted(port) { skipped[port] = why } }
        self.init(interface: interface, protectedPorts: ports, gatePort: settings.gatePort,
                  mark: UInt32(settings.firewallMark), routingTable: UInt32(settings.routingTable),
                  failClosed: settings.failClosed, notDiverted: skipped)
    }

    public var qualifiedTableName: String { "\(Self.family) \(Self.tableName)" }

    /// The rules of the prerouting chain, in order.
    public var rules: [DivertRule] {
        [
            .passedThroughConnection(mark: mark),
            .transparentSocket(mark: mark),
            .exemptPort(mark: mark),
            .passThrough(family: .ipv4, mark: mark),
            .passThrough(family: .ipv6, mark: mark),
            .divert(interface: interface, family: .ipv4, gatePort: gatePort, mark: mark),
            .divert(interface: interface, family: .ipv6, gatePort: gatePort, mark: mark),
        ]
    }

    /// The ruleset as `nft list table inet moat` prints it.
    public var nftText: String {
        var lines = ["table \(qualifiedTableName) {"]
        if !failClosed { lines += ["\tflags owner", ""] }
        lines += ["\tset \(Self.setName) {", "\t\ttype inet_service"]
        if !divertedPorts.isEmpty {
            lines.append("\t\telements = { \(divertedPorts.map(String.init).joined(separator: ", ")) }")
        }
        lines += ["\t}", "", "\tset \(Self.exemptSetName) {", "\t\ttype inet_service"]
        if !notDiverted.isEmpty {
            lines.append("\t\telements = { \(notDiverted.keys.sorted().map(String.init).joined(separator: ", ")) }")
        }
        lines += ["\t}", ""]
        for family in IPFamily.allCases {
            let address = family == .ipv4 ? "ipv4_addr" : "ipv6_addr"
            lines += [
                "\tset \(Self.passThroughSetNames[family]!) {",
                "\t\ttype \(address) . \(address) . inet_service",
                "\t\tsize \(passThroughCapacity)",
                "\t\tflags timeout",
                "\t}",
                "",
            ]
        }
        lines += [
            "\tchain \(Self.chainName) {",
            "\t\ttype filter hook prerouting priority mangle; policy accept;",
        ]
        lines += rules.map { "\t\t" + $0.nftText }
        lines += ["\t}", "}"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The policy routing as `ip` commands would add it.
    public var routingText: [String] {
        let mark = "0x" + String(self.mark, radix: 16)
        return [
            "ip -4 rule add fwmark \(mark) lookup \(routingTable)",
            "ip -4 route add local 0.0.0.0/0 dev lo table \(routingTable)",
            "ip -6 rule add fwmark \(mark) lookup \(routingTable)",
            "ip -6 route add local ::/0 dev lo table \(routingTable)",
        ]
    }

    /// The routing part alone: a reload that keeps it leaves the ip rules and routes untouched.
    var routing: RoutingPlan { RoutingPlan(mark: mark, table: routingTable) }
}

/// Which address family a divert rule serves.
public enum IPFamily: String, Sendable, Hashable, CaseIterable {
    case ipv4 = "ip"
    case ipv6 = "ip6"
}

/// One rule of Moat's prerouting chain.
public enum DivertRule: Sendable, Hashable {
    /// Packets belonging to an existing (non-wildcard) transparent socket.
    case transparentSocket(mark: UInt32)
    /// Packets of a connection the kernel passed through (its conntrack mark has the bits of `mark`).
    case passedThroughConnection(mark: UInt32)
    /// The first packet of a connection to a protected port left to the kernel: marked, forwarded.
    case exemptPort(mark: UInt32)
    /// The first packet of a connection whose client . server . port is in the learned set:
    /// the connection is marked as passed through, and forwarded.
    case passThrough(family: IPFamily, mark: UInt32)
    /// New connections arriving on `interface` to a protected port, to the Gate.
    case divert(interface: String, family: IPFamily, gatePort: Int, mark: UInt32)

    public var nftText: String {
        switch self {
        case .transparentSocket(let mark):
            return "meta l4proto tcp socket transparent 1 socket wildcard 0 meta mark set \(hexMark(mark)) accept"
        case .passedThroughConnection(let mark):
            return "ct mark & \(hexMark(mark)) == \(hexMark(mark)) accept"
        case .exemptPort(let mark):
            return "ct state new tcp dport @\(DivertPlan.exemptSetName) ct mark set ct mark | \(hexMark(mark)) accept"
        case .passThrough(let family, let mark):
            let ip = family.rawValue
            return "ct state new \(ip) saddr . \(ip) daddr . tcp dport @\(DivertPlan.passThroughSetNames[family]!) "
                + "ct mark set ct mark | \(hexMark(mark)) accept"
        case .divert(let interface, let family, let gatePort, let mark):
            return "iifname \"\(interface)\" tcp dport @\(DivertPlan.setName) tproxy \(family.rawValue) to :\(gatePort) "
                + "meta mark set \(hexMark(mark)) accept"
        }
    }
}

private func hexMark(_ mark: UInt32) -> String {
    let digits = String(mark, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// The fwmark rule and local route table, per address family.
struct RoutingPlan: Sendable, Hashable {
    var mark: UInt32
    var table: UInt32
}
