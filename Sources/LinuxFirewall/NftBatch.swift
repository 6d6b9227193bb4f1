import CNetfilter
#if canImport(Glibc)
import Glibc
#endif

/// Builds the plan as libnftnl objects in one nfnetlink batch (NFNL_MSG_BATCH_BEGIN ... END):
/// the kernel applies all of it or none of it.
///
/// Install and reload send the same batch: `add table` (no flags: creates it if missing,
/// changes nothing otherwise), `delete table`, then the whole table again. So a reload never
/// shows a half-changed ruleset, and a table left by a fail-closed moatd that died is replaced.
struct NftBatch {
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private let batch: OpaquePointer
    private let socket: NetlinkSocket
    /// What each message does, by sequence number, for error messages.
    private(set) var purposes: [UInt32: String] = [:]

    init(socket: NetlinkSocket) {
        self.socket = socket
        capacity = 64 * 1024
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        batch = mnl_nlmsg_batch_start(buffer, capacity / 2)
        nftnl_batch_begin(current, socket.nextSequence())
        _ = mnl_nlmsg_batch_next(batch)
    }

    private var current: UnsafeMutablePointer<CChar> {
        mnl_nlmsg_batch_current(batch).assumingMemoryBound(to: CChar.self)
    }

    func free() {
        mnl_nlmsg_batch_stop(batch)
        buffer.deallocate()
    }

    mutating func message(_ type: nf_tables_msg_types, flags: Int32, purpose: String,
                                  payload: (UnsafeMutablePointer<nlmsghdr>) -> Void) {
        let sequence = socket.nextSequence()
        let header = nftnl_nlmsg_build_hdr(current, UInt16(type.rawValue), UInt16(NFPROTO_INET),
                                           UInt16(flags | NLM_F_ACK), sequence)!
        payload(header)
        purposes[sequence] = purpose
        if !mnl_nlmsg_batch_next(batch) { preconditionFailure("nftables batch larger than its buffer") }
    }

    /// `add table inet moat` with no flags: a no-op when it exists, whatever its flags.
    mutating func ensureTable() {
        let table = nftnl_table_alloc()!
        defer { nftnl_table_free(table) }
        nftnl_table_set_str(table, attr(NFTNL_TABLE_NAME), DivertPlan.tableName)
        nftnl_table_set_u32(table, attr(NFTNL_TABLE_FAMILY), UInt32(NFPROTO_INET))
        message(NFT_MSG_NEWTABLE, flags: NLM_F_CREATE, purpose: "adding table inet moat") {
            nftnl_table_nlmsg_build_payload($0, table)
        }
    }

    mutating func deleteTable() {
        let table = nftnl_table_alloc()!
        defer { nftnl_table_free(table) }
        nftnl_table_set_str(table, attr(NFTNL_TABLE_NAME), DivertPlan.tableName)
        nftnl_table_set_u32(table, attr(NFTNL_TABLE_FAMILY), UInt32(NFPROTO_INET))
        message(NFT_MSG_DELTABLE, flags: 0, purpose: "deleting table inet moat") {
            nftnl_table_nlmsg_build_payload($0, table)
        }
    }

    /// The whole table of the plan, created fresh (after `deleteTable` in the same batch).
    mutating func addTable(_ plan: DivertPlan) {
        let table = nftnl_table_alloc()!
        defer { nftnl_table_free(table) }
        nftnl_table_set_str(table, attr(NFTNL_TABLE_NAME), DivertPlan.tableName)
        nftnl_table_set_u32(table, attr(NFTNL_TABLE_FAMILY), UInt32(NFPROTO_INET))
        // Owned by this socket: the kernel deletes the table when the socket closes, i.e.
        // when moatd exits or is killed (fail-open). Fail-closed: no owner, the table stays.
        nftnl_table_set_u32(table, attr(NFTNL_TABLE_FLAGS), plan.failClosed ? 0 : UInt32(NFT_TABLE_F_OWNER.rawValue))
        message(NFT_MSG_NEWTABLE, flags: NLM_F_CREATE | NLM_F_EXCL,
                purpose: plan.failClosed ? "creating table inet moat" : "creating table inet moat (flags owner)") {
            nftnl_table_nlmsg_build_payload($0, table)
        }

        let setID: UInt32 = 1
        // Every protected port may be left to the kernel: the set is then empty.
        addPortSet(DivertPlan.setName, id: setID, ports: plan.divertedPorts)
        addExemptSet(plan)
        for family in IPFamily.allCases { addPassThroughSet(family, capacity: plan.passThroughCapacity) }

        let chain = nftnl_chain_alloc()!
        defer { nftnl_chain_free(chain) }
        nftnl_chain_set_str(chain, attr(NFTNL_CHAIN_TABLE), DivertPlan.tableName)
        nftnl_chain_set_str(chain, attr(NFTNL_CHAIN_NAME), DivertPlan.chainName)
        nftnl_chain_set_u32(chain, attr(NFTNL_CHAIN_FAMILY), UInt32(NFPROTO_INET))
        nftnl_chain_set_str(chain, attr(NFTNL_CHAIN_TYPE), "filter")
        nftnl_chain_set_u32(chain, attr(NFTNL_CHAIN_HOOKNUM), UInt32(NF_INET_PRE_ROUTING.rawValue))
        nftnl_chain_set_s32(chain, attr(NFTNL_CHAIN_PRIO), DivertPlan.chainPriority)
        nftnl_chain_set_u32(chain, attr(NFTNL_CHAIN_POLICY), UInt32(NF_ACCEPT))
        message(NFT_MSG_NEWCHAIN, flags: NLM_F_CREATE | NLM_F_EXCL, purpose: "adding chain \(DivertPlan.chainName)") {
            nftnl_chain_nlmsg_build_payload($0, chain)
        }

        for rule in plan.rules {
            let nftRule = nftnl_rule_alloc()!
            defer { nftnl_rule_free(nftRule) }
            nftnl_rule_set_str(nftRule, attr(NFTNL_RULE_TABLE), DivertPlan.tableName)
            nftnl_rule_set_str(nftRule, attr(NFTNL_RULE_CHAIN), DivertPlan.chainName)
            nftnl_rule_set_u32(nftRule, attr(NFTNL_RULE_FAMILY), UInt32(NFPROTO_INET))
            for expression in Self.expressions(rule, setID: setID) + Self.passThroughExpressions(rule) { nftnl_rule_add_expr(nftRule, expression) }
            message(NFT_MSG_NEWRULE, flags: NLM_F_CREATE | NLM_F_APPEND, purpose: "adding rule `\(rule.nftText)`") {
                nftnl_rule_nlmsg_build_payload($0, nftRule)
            }
        }
    }

    /// Tests only: a rule for a chain that does not exist, so the kernel refuses the batch
    /// after everything else in it was accepted (proves that nothing of it is applied).
    mutating func addFailingRule() {
        let rule = nftnl_rule_alloc()!
        defer { nftnl_rule_free(rule) }
        nftnl_rule_set_str(rule, attr(NFTNL_RULE_TABLE), DivertPlan.tableName)
        nftnl_rule_set_str(rule, attr(NFTNL_RULE_CHAIN), "no-such-chain")
        nftnl_rule_set_u32(rule, attr(NFTNL_RULE_FAMILY), UInt32(NFPROTO_INET))
        message(NFT_MSG_NEWRULE, flags: NLM_F_CREATE | NLM_F_APPEND, purpose: "adding a rule to chain no-such-chain") {
            nftnl_rule_nlmsg_build_payload($0, rule)
        }
    }

    /// Ends the batch, sends it and turns the first refusal into an error.
    mutating func commit() throws(FirewallError) {
        nftnl_batch_end(current, socket.nextSequence())
        _ = mnl_nlmsg_batch_next(batch)
        let bytes = UnsafeRawBufferPointer(start: mnl_nlmsg_batch_head(batch), count: mnl_nlmsg_batch_size(batch))
        let answers = try socket.transact(bytes, expecting: Set(purposes.keys))
        if let (sequence, error) = answers.filter({ $0.value != 0 }).min(by: { $0.key < $1.key }) {
            throw FirewallError(subsystem: "nftables", errno: error, doing: purposes[sequence] ?? "applying the batch")
        }
        let missing = Set(purposes.keys).subtracting(answers.keys)
        if !missing.isEmpty {
            throw FirewallError(subsystem: "nftables", errno: EIO,
                                doing: "waiting for the kernel to acknowledge \(missing.count) message(s)")
        }
    }

    // MARK: Expressions, as `nft --debug=netlink` shows them

    static func expressions(_ rule: DivertRule, setID: UInt32) -> [OpaquePointer] {
        switch rule {
        case .passedThroughConnection, .exemptPort, .passThrough:
            return [] // NftBatch+PassThrough.swift
        case .transparentSocket(let mark):
            // meta l4proto tcp socket transparent 1 socket wildcard 0 meta mark set M accept
            return [
                meta(load: UInt32(NFT_META_L4PROTO.rawValue)), compare(bytes: [UInt8(IPPROTO_TCP)]),
                socket(key: UInt32(NFT_SOCKET_TRANSPARENT.rawValue)), compare(u32: 1),
                socket(key: UInt32(NFT_SOCKET_WILDCARD.rawValue)), compare(u32: 0),
            ] + setMark(mark) + [accept()]
        case .divert(let interface, let family, let gatePort, let mark):
            // iifname "<if>" tcp dport @protected_ports tproxy ip|ip6 to :P meta mark set M accept
            var name = [UInt8](repeating: 0, count: Int(IFNAMSIZ))
            for (index, byte) in interface.utf8.prefix(Int(IFNAMSIZ) - 1).enumerated() { name[index] = byte }
            let payload = nftnl_expr_alloc("payload")!
            nftnl_expr_set_u32(payload, attr(NFTNL_EXPR_PAYLOAD_BASE), UInt32(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue))
            nftnl_expr_set_u32(payload, attr(NFTNL_EXPR_PAYLOAD_OFFSET), 2)
            nftnl_expr_set_u32(payload, attr(NFTNL_EXPR_PAYLOAD_LEN), 2)
            nftnl_expr_set_u32(payload, attr(NFTNL_EXPR_PAYLOAD_DREG), UInt32(NFT_REG_1.rawValue))
            let lookup = nftnl_expr_alloc("lookup")!
            nftnl_expr_set_u32(lookup, attr(NFTNL_EXPR_LOOKUP_SREG), UInt32(NFT_REG_1.rawValue))
            nftnl_expr_set_str(lookup, attr(NFTNL_EXPR_LOOKUP_SET), DivertPlan.setName)
            nftnl_expr_set_u32(lookup, attr(NFTNL_EXPR_LOOKUP_SET_ID), setID)
            var port = cnetfilter_htons(UInt16(gatePort))
            let portImmediate = nftnl_expr_alloc("immediate")!
            nftnl_expr_set_u32(portImmediate, attr(NFTNL_EXPR_IMM_DREG), UInt32(NFT_REG_1.rawValue))
            nftnl_expr_set(portImmediate, attr(NFTNL_EXPR_IMM_DATA), &port, 2)
            let tproxy = nftnl_expr_alloc("tproxy")!
            nftnl_expr_set_u32(tproxy, attr(NFTNL_EXPR_TPROXY_FAMILY), UInt32(family == .ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6))
            nftnl_expr_set_u32(tproxy, attr(NFTNL_EXPR_TPROXY_REG_PORT), UInt32(NFT_REG_1.rawValue))
            return [
                meta(load: UInt32(NFT_META_IIFNAME.rawValue)), compare(bytes: name),
                meta(load: UInt32(NFT_META_L4PROTO.rawValue)), compare(bytes: [UInt8(IPPROTO_TCP)]),
                payload, lookup, portImmediate, tproxy,
            ] + setMark(mark) + [accept()]
        }
    }

    static func meta(load key: UInt32) -> OpaquePointer {
        let expression = nftnl_expr_alloc("meta")!
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_META_KEY), key)
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_META_DREG), UInt32(NFT_REG_1.rawValue))
        return expression
    }

    static func socket(key: UInt32) -> OpaquePointer {
        let expression = nftnl_expr_alloc("socket")!
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_SOCKET_KEY), key)
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_SOCKET_DREG), UInt32(NFT_REG_1.rawValue))
        return expression
    }

    static func compare(bytes: [UInt8]) -> OpaquePointer {
        let expression = nftnl_expr_alloc("cmp")!
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_CMP_SREG), UInt32(NFT_REG_1.rawValue))
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_CMP_OP), UInt32(NFT_CMP_EQ.rawValue))
        bytes.withUnsafeBytes { _ = nftnl_expr_set(expression, attr(NFTNL_EXPR_CMP_DATA), $0.baseAddress, UInt32($0.count)) }
        return expression
    }

    static func compare(u32 value: UInt32) -> OpaquePointer {
        withUnsafeBytes(of: value) { compare(bytes: Array($0)) }
    }

    /// `meta mark set M`: the mark in host byte order.
    static func setMark(_ mark: UInt32) -> [OpaquePointer] {
        var value = mark
        let immediate = nftnl_expr_alloc("immediate")!
        nftnl_expr_set_u32(immediate, attr(NFTNL_EXPR_IMM_DREG), UInt32(NFT_REG_1.rawValue))
        nftnl_expr_set(immediate, attr(NFTNL_EXPR_IMM_DATA), &value, 4)
        let set = nftnl_expr_alloc("meta")!
        nftnl_expr_set_u32(set, attr(NFTNL_EXPR_META_KEY), UInt32(NFT_META_MARK.rawValue))
        nftnl_expr_set_u32(set, attr(NFTNL_EXPR_META_SREG), UInt32(NFT_REG_1.rawValue))
        return [immediate, set]
    }

    static func accept() -> OpaquePointer {
        let expression = nftnl_expr_alloc("immediate")!
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_IMM_DREG), UInt32(NFT_REG_VERDICT.rawValue))
        nftnl_expr_set_u32(expression, attr(NFTNL_EXPR_IMM_VERDICT), UInt32(NF_ACCEPT))
        return expression
    }
}

/// libnftnl attribute numbers come in as named C enums (structs) or anonymous ones (Int).
func attr<T: BinaryInteger>(_ value: T) -> UInt16 { UInt16(value) }
func attr<T: RawRepresentable>(_ value: T) -> UInt16 where T.RawValue: BinaryInteger { UInt16(value.rawValue) }
