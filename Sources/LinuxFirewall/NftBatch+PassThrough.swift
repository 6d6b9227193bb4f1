import CNetfilter
#if canImport(Glibc)
import Glibc
#endif

/// What the kernel forwards without the Gate: the static exempt ports' set and rule, and the
/// learned pass-through: the two bounded sets of `client . server . port`
/// with time-outs, the two rules that consult them and mark the connection, and the one
/// message that adds a pair while moatd runs (over the table owner's socket: nobody else may
/// change an owned table).
extension NftBatch {
    /// Set ids inside a batch: the rules name their set by name and by this id.
    static func passThroughSetID(_ family: IPFamily) -> UInt32 { family == .ipv4 ? 2 : 3 }
    static let exemptSetID: UInt32 = 4

    /// `set exempt_ports { type inet_service; elements = { <notDiverted> } }`
    mutating func addExemptSet(_ plan: DivertPlan) {
        addPortSet(DivertPlan.exemptSetName, id: Self.exemptSetID, ports: plan.notDiverted.keys.sorted())
    }

    /// `set <name> { type inet_service; elements = { <ports> } }` (no element message when empty).
    mutating func addPortSet(_ name: String, id: UInt32, ports: [Int]) {
        let set = nftnl_set_alloc()!
        defer { nftnl_set_free(set) }
        nftnl_set_set_str(set, attr(NFTNL_SET_TABLE), DivertPlan.tableName)
        nftnl_set_set_str(set, attr(NFTNL_SET_NAME), name)
        nftnl_set_set_u32(set, attr(NFTNL_SET_FAMILY), UInt32(NFPROTO_INET))
        nftnl_set_set_u32(set, attr(NFTNL_SET_KEY_TYPE), 13) // nft's TYPE_INET_SERVICE
        nftnl_set_set_u32(set, attr(NFTNL_SET_KEY_LEN), 2)
        nftnl_set_set_u32(set, attr(NFTNL_SET_ID), id)
        nftnl_set_set_u32(set, attr(NFTNL_SET_FLAGS), 0)
        message(NFT_MSG_NEWSET, flags: NLM_F_CREATE | NLM_F_EXCL, purpose: "adding set \(name)") {
            nftnl_set_nlmsg_build_payload($0, set)
        }
        guard !ports.isEmpty else { return }
        for port in ports {
            let element = nftnl_set_elem_alloc()!
            var key = cnetfilter_htons(UInt16(port))
            nftnl_set_elem_set(element, attr(NFTNL_SET_ELEM_KEY), &key, 2)
            nftnl_set_elem_add(set, element) // the set owns it now
        }
        message(NFT_MSG_NEWSETELEM, flags: NLM_F_CREATE | NLM_F_EXCL, purpose: "adding ports \(ports) to set \(name)") {
            nftnl_set_elems_nlmsg_build_payload($0, set)
        }
    }

    /// The key's layout: each field of a concatenation takes whole 32-bit registers.
    static func passThroughKeyLength(_ family: IPFamily) -> Int { family == .ipv4 ? 4 + 4 + 4 : 16 + 16 + 4 }

    /// nft's concatenated type id (`type << 6 | subtype`, field by field): ipv4_addr 7,
    /// ipv6_addr 8, inet_service 13. `nft list` prints the type from it.
    static func passThroughKeyType(_ family: IPFamily) -> UInt32 {
        let address: UInt32 = family == .ipv4 ? 7 : 8
        return ((address << 6) | address) << 6 | 13
    }

    /// `set passthrough_v4 { type ipv4_addr . ipv4_addr . inet_service; size 65536; flags timeout; }`
    mutating func addPassThroughSet(_ family: IPFamily, capacity: Int) {
        let name = DivertPlan.passThroughSetNames[family]!
        let set = nftnl_set_alloc()!
        defer { nftnl_set_free(set) }
        nftnl_set_set_str(set, attr(NFTNL_SET_TABLE), DivertPlan.tableName)
        nftnl_set_set_str(set, attr(NFTNL_SET_NAME), name)
        nftnl_set_set_u32(set, attr(NFTNL_SET_FAMILY), UInt32(NFPROTO_INET))
        nftnl_set_set_u32(set, attr(NFTNL_SET_KEY_TYPE), Self.passThroughKeyType(family))
        nftnl_set_set_u32(set, attr(NFTNL_SET_KEY_LEN), UInt32(Self.passThroughKeyLength(family)))
        nftnl_set_set_u32(set, attr(NFTNL_SET_ID), Self.passThroughSetID(family))
        nftnl_set_set_u32(set, attr(NFTNL_SET_FLAGS), UInt32(NFT_SET_TIMEOUT.rawValue))
        nftnl_set_set_u32(set, attr(NFTNL_SET_DESC_SIZE), UInt32(capacity))
        message(NFT_MSG_NEWSET, flags: NLM_F_CREATE | NLM_F_EXCL, purpose: "adding set \(name)") {
            nftnl_set_nlmsg_build_payload($0, set)
        }
    }

    /// Adds one learned pair for `milliseconds`. An existing element is left as it is (no
    /// NLM_F_EXCL); a full set answers ENFILE.
    mutating func addPassThrough(_ pair: PassThroughPair, milliseconds: UInt64) {
        let name = DivertPlan.passThroughSetNames[pair.family]!
        let set = nftnl_set_alloc()!
        defer { nftnl_set_free(set) }
        nftnl_set_set_str(set, attr(NFTNL_SET_TABLE), DivertPlan.tableName)
        nftnl_set_set_str(set, attr(NFTNL_SET_NAME), name)
        nftnl_set_set_u32(set, attr(NFTNL_SET_FAMILY), UInt32(NFPROTO_INET))
        let element = nftnl_set_elem_alloc()!
        var key = pair.key
        nftnl_set_elem_set(element, attr(NFTNL_SET_ELEM_KEY), &key, UInt32(key.count))
        nftnl_set_elem_set_u64(element, attr(NFTNL_SET_ELEM_TIMEOUT), max(1, milliseconds))
        nftnl_set_elem_add(set, element) // the set owns it now
        message(NFT_MSG_NEWSETELEM, flags: NLM_F_CREATE, purpose: "adding \(pair) to set \(name)") {
            nftnl_set_elems_nlmsg_build_payload($0, set)
        }
    }

    // MARK: Expressions, as `nft --debug=netlink` shows them

    static func passThroughExpressions(_ rule: DivertRule) -> [OpaquePointer] {
        switch rule {
        case .passedThroughConnection(let mark):
            // ct mark & M == M accept
            return [conntrackMark(load: true), bitwise(mask: mark, xor: 0), compare(u32: mark), accept()]
        case .exemptPort(let mark):
            // ct state new tcp dport @exempt_ports ct mark set ct mark | M accept
            let lookup = nftnl_expr_alloc("lookup")!
            nftnl_expr_set_u32(lookup, attr(NFTNL_EXPR_LOOKUP_SREG), UInt32(NFT_REG_1.rawValue))
            nftnl_expr_set_str(lookup, attr(NFTNL_EXPR_LOOKUP_SET), DivertPlan.exemptSetName)
            nftnl_expr_set_u32(lookup, attr(NFTNL_EXPR_LOOKUP_SET_ID), exemptSetID)
            return newConnection() + [
                meta(load: UInt32(NFT_META_L4PROTO.rawValue)), compare(bytes: [UInt8(IPPROTO_TCP)]),
                payload(.transport, offset: 2, length: 2, into: UInt32(NFT_REG_1.rawValue)),
                lookup,
                conntrackMark(load: true), bitwise(mask: ~mark, xor: mark), conntrackMark(load: false),
                accept(),
            ]
        case .passThrough(let family, let mark):
            // ip saddr . ip daddr . tcp dport @passthrough_v4 ct mark set ct mark | M accept
            let length: UInt32 = family == .ipv4 ? 4 : 16
            let source: UInt32 = family == .ipv4 ? 12 : 8
            let nfproto: UInt8 = family == .ipv4 ? UInt8(NFPROTO_IPV4) : UInt8(NFPROTO_IPV6)
            // Concatenated fields go into consecutive 32-bit registers (reg 1 = reg32 0).
            let daddrRegister = UInt32(NFT_REG32_00.rawValue) + length / 4
            let portRegister = daddrRegister + length / 4
            let lookup = nftnl_expr_alloc("lookup")!
            nftnl_expr_set_u32(lookup, attr(NFTNL_EXPR_LOOKUP_SREG), UInt32(NFT_REG_1.rawValue))
            nftnl_expr_set_str(lookup, attr(NFTNL_EXPR_LOOKUP_SET), DivertPlan.passThroughSetNames[family]!)
            nftnl_expr_set_u32(lookup, attr(NFTNL_EXPR_LOOKUP_SET_ID), passThroughSetID(family))
            return newConnection() + [
                meta(load: UInt32(NFT_META_L4PROTO.rawValue)), compare(bytes: [UInt8(IPPROTO_TCP)]),
                meta(load: UInt32(NFT_META_NFPROTO.rawValue)), compare(bytes: [nfproto]),
                payload(.network, offset: source, length: length, into: UInt32(NFT_REG_1.rawValue)),
                payload(.network, offset: source + length, length: length, into: daddrRegister),
                payload(.transport, offset: 2, length: 2, into: portRegister),
                lookup,
                conntrackMark(load: true), bitwise(mask: ~mark, xor: mark), conntrackMark(load: false),
                accept(),
            ]
        case .transparentSocket, .divert:
            return []
        }
    }

    /// `ct state new`: the connection's first packet.
    static func newConnection() -> [OpaquePointer] {
        let load = nftnl_expr_alloc("ct")!
        nftnl_expr_set_u32(load, attr(NFTNL_EXPR_CT_KEY), UInt32(NFT_CT_STATE.rawValue))
        nftnl_expr_set_u32(load, attr(NFTNL_EXPR_CT_DREG), UInt32(NFT_REG_1.rawValue))
        let notZero = nftnl_expr_alloc("cmp")!
        nftnl_expr_set_u32(notZero, attr(NFTNL_EXPR_CMP_SREG), UInt32(NFT_REG_1.rawValue))
        nftnl_expr_set_u32(notZero, attr(NFTNL_EXPR_CMP_OP), UInt32(NFT_CMP_NEQ.rawValue))
        var zero: UInt32 = 0
        nftnl_expr_set(notZero, attr(NFTNL_EXPR_CMP_DATA), &zero, 4)
        return [load, bitwise(mask: 8 /* NF_CT_STATE_BIT(IP_CT_NEW) */, xor: 0), notZero]
    }

    enum Header { case network, transport }

    static func payload(_ header: Header, offset: UInt32, length: UInt32, into register: UInt32) -> OpaquePointer {
        let expression = nftnl_expr_alloc("payload")!
        let base = header == .network ? NFT_PAYLOAD_NETWORK_HEADER : NFT_PAYLOAD_TRANSPORT_HEADER
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_PAYLOAD_BASE), UInt32(base.rawValue))
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_PAYLOAD_OFFSET), offset)
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_PAYLOAD_LEN), length)
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_PAYLOAD_DREG), register)
        return expression
    }

    /// `ct load mark => reg 1` or `ct set mark with reg 1`.
    static func conntrackMark(load: Bool) -> OpaquePointer {
        let expression = nftnl_expr_alloc("ct")!
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_CT_KEY), UInt32(NFT_CT_MARK.rawValue))
        nftnl_expr_set_u32(expression, attr(load ? NFTNL_EXPR_CT_DREG : NFTNL_EXPR_CT_SREG), UInt32(NFT_REG_1.rawValue))
        return expression
    }

    /// `bitwise reg 1 = (reg 1 & mask) ^ xor` on 32 bits (host byte order, as the mark).
    static func bitwise(mask: UInt32, xor: UInt32) -> OpaquePointer {
        let expression = nftnl_expr_alloc("bitwise")!
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_BITWISE_SREG), UInt32(NFT_REG_1.rawValue))
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_BITWISE_DREG), UInt32(NFT_REG_1.rawValue))
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_BITWISE_LEN), 4)
        var maskValue = mask, xorValue = xor
        nftnl_expr_set(expression, attr(NFTNL_EXPR_BITWISE_MASK), &maskValue, 4)
        nftnl_expr_set(expression, attr(NFTNL_EXPR_BITWISE_XOR), &xorValue, 4)
        return expression
    }
}

/// One learned pair as the kernel set keys it: client address, server address, server port.
public struct PassThroughPair: Sendable, Hashable, CustomStringConvertible {
    public let family: IPFamily
    public let client: String
    public let server: String
    public let port: Int
    /// The set element's key: the addresses and the port in network byte order, each field
    /// padded to 32 bits.
    let key: [UInt8]

    /// Nil unless both addresses are IP addresses of the same family and the port is a port.
    public init?(client: String, server: String, port: Int) {
        guard (1...65535).contains(port) else { return nil }
        var v4a = in_addr(), v4b = in_addr(), v6a = in6_addr(), v6b = in6_addr()
        var key: [UInt8]
        if inet_pton(AF_INET, client, &v4a) == 1, inet_pton(AF_INET, server, &v4b) == 1 {
            family = .ipv4
            key = withUnsafeBytes(of: v4a) { Array($0) } + withUnsafeBytes(of: v4b) { Array($0) }
        } else if inet_pton(AF_INET6, client, &v6a) == 1, inet_pton(AF_INET6, server, &v6b) == 1 {
            family = .ipv6
            key = withUnsafeBytes(of: v6a) { Array($0) } + withUnsafeBytes(of: v6b) { Array($0) }
        } else {
            return nil
        }
        key += [UInt8(port >> 8), UInt8(port & 0xff), 0, 0]
        self.key = key
        self.client = client
        self.server = server
        self.port = port
    }

    public var description: String { "\(client) . \(server) . \(port)" }
}
