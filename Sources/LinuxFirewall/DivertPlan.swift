import MoatConfig

/// What Moat installs for `[LinuxFirewall] InputDivert = Auto(interface:<if> protected:<ports>)`,
/// computed from the settings alone: no kernel, no sockets. The same plan is rendered as
/// nftables text (`nft/moat-divert.nft`, `moat-ctl`, logs) and built as libnftnl objects in one
/// netlink batch (`NftBatch`), so the two cannot drift apart.
///
/// The ruleset (own table, prerouting at mangle priority, as in the kernel's tproxy.rst):
///
/// 1. `meta l4proto tcp socket transparent 1 socket wildcard 0 meta mark set M accept`:
///    packets of an existing transparent socket (the Gate's accepted connections, and the
///    replies to its upstream legs when it connects from the client's address) are marked and
///    routed locally. `socket wildcard 0` keeps the Gate's wildcard listener itself out of it.
/// 2. `iifname "<if>" tcp dport @protected_ports tproxy ip to :GatePort meta mark set M accept`
///    and the same with `ip6`: new connections arriving on the interface to a protected port go
///    to the Gate's IP_TRANSPARENT listener; `getsockname()` there gives the original destination.
///
/// Moat's own upstream connections are never diverted again: they leave through the output
/// hook, which this table does not hook, and their replies either carry an ephemeral destination
/// port (not a protected one) or belong to a transparent socket and are accepted by rule 1
/// before rule 2 is looked at.
///
/// Policy routing (rtnetlink): `ip rule add fwmark M lookup T` and
/// `ip route add local 0.0.0.0/0 dev lo table T`, and the same for IPv6 (`local ::/0`).
///
/// No NFQUEUE: every decision here is static (interface, port), so no packet is queued to
/// userspace and libnetfilter_queue is not linked. A per-connection decision (learned TLS
/// passthrough, per-client exceptions) would add a `queue num N bypass` rule for the first
/// packet of a connection before rule 2; none exists yet.
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
    public static let chainName = "prerouting"
    /// `priority mangle`.
    public static let chainPriority: Int32 = -150

    /// The interface whose incoming connections are diverted.
    public var interface: String
    /// Sorted, without duplicates.
    public var protectedPorts: [Int]
    /// The Gate's IP_TRANSPARENT listener, the TPROXY target.
    public var gatePort: Int
    public var mark: UInt32
    public var routingTable: UInt32
    /// True: the table has no owner and outlives moatd (mail stops when moatd dies). False (the
    /// default): the table is owned by moatd's netlink socket and the kernel removes it when
    /// moatd exits for any reason, so a crash lets mail flow unscanned instead of black-holing it.
    public var failClosed: Bool

    public init(interface: String, protectedPorts: [Int], gatePort: Int = 20025, mark: UInt32 = 1,
                routingTable: UInt32 = 100, failClosed: Bool = false) {
        self.interface = interface
        self.protectedPorts = Array(Set(protectedPorts)).sorted()
        self.gatePort = gatePort
        self.mark = mark
        self.routingTable = routingTable
        self.failClosed = failClosed
    }

    /// The plan for the settings, or nil when `InputDivert` is Off.
    public init?(values: ConfigValues) {
        let settings = values.linuxFirewall
        guard case .auto(let interface, let ports) = settings.inputDivert else { return nil }
        self.init(interface: interface, protectedPorts: ports, gatePort: settings.gatePort,
                  mark: UInt32(settings.firewallMark), routingTable: UInt32(settings.routingTable),
                  failClosed: settings.failClosed)
    }

    public var qualifiedTableName: String { "\(Self.family) \(Self.tableName)" }

    /// The rules of the prerouting chain, in order.
    public var rules: [DivertRule] {
        [
            .transparentSocket(mark: mark),
            .divert(interface: interface, family: .ipv4, gatePort: gatePort, mark: mark),
            .divert(interface: interface, family: .ipv6, gatePort: gatePort, mark: mark),
        ]
    }

    /// The ruleset as `nft list table inet moat` prints it.
    public var nftText: String {
        var lines = ["table \(qualifiedTableName) {"]
        if !failClosed { lines += ["\tflags owner", ""] }
        lines += [
            "\tset \(Self.setName) {",
            "\t\ttype inet_service",
            "\t\telements = { \(protectedPorts.map(String.init).joined(separator: ", ")) }",
            "\t}",
            "",
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
    /// New connections arriving on `interface` to a protected port, to the Gate.
    case divert(interface: String, family: IPFamily, gatePort: Int, mark: UInt32)

    public var nftText: String {
        switch self {
        case .transparentSocket(let mark):
            return "meta l4proto tcp socket transparent 1 socket wildcard 0 meta mark set \(hexMark(mark)) accept"
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
