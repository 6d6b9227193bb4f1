import CNetfilter
#if canImport(Glibc)
import Glibc
#endif

/// `ip rule add fwmark M lookup T` and `ip route add local 0.0.0.0/0 dev lo table T` (and the
/// IPv6 pair) through rtnetlink, and their removal. Rules and routes have no owner in the kernel:
/// they outlive moatd, which is harmless once the nftables table that sets the mark is gone.
struct PolicyRouting {
    let socket: NetlinkSocket
    /// `lo`, looked up in the namespace the socket was opened in.
    let loopbackIndex: UInt32

    init(socket: NetlinkSocket, loopbackIndex: UInt32) {
        self.socket = socket
        self.loopbackIndex = loopbackIndex
    }

    /// Adds the rule and the route for both families. A previous identical rule is removed
    /// first, so repeated installs never stack duplicates (the kernel picks a new preference
    /// for each `add`). IPv6 is skipped, with a note, when the kernel has it disabled.
    func install(_ plan: RoutingPlan) throws(FirewallError) -> [String] {
        var notes: [String] = []
        for family in [AF_INET, AF_INET6] {
            _ = try deleteRules(plan, family: family)
            do throws(FirewallError) {
                try request(RTM_NEWRULE, flags: NLM_F_CREATE | NLM_F_EXCL, what: "ip rule", doing: describeRule(plan, family)) {
                    rule($0, plan, family: family)
                }
            } catch where family == AF_INET6 && error.code == .unsupported {
                notes.append("IPv6 policy routing not available: \(error.reason)")
                continue
            }
            try request(RTM_NEWROUTE, flags: NLM_F_CREATE | NLM_F_REPLACE, what: "ip route", doing: describeRoute(plan, family)) {
                route($0, plan, family: family)
            }
        }
        return notes
    }

    /// Removes the rules and routes; missing ones are fine.
    func remove(_ plan: RoutingPlan) throws(FirewallError) {
        var firstError: FirewallError?
        for family in [AF_INET, AF_INET6] {
            do throws(FirewallError) { _ = try deleteRules(plan, family: family) } catch { firstError = firstError ?? error }
            do throws(FirewallError) {
                try request(RTM_DELROUTE, flags: 0, what: "ip route", doing: "deleting " + describeRoute(plan, family),
                            ignoring: [ESRCH, ENOENT, EAFNOSUPPORT]) {
                    route($0, plan, family: family)
                }
            } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    /// The fwmark rules currently in the kernel that lead to the plan's table, as `ip rule` lines.
    func listRules(_ plan: RoutingPlan) throws(FirewallError) -> [String] {
        var lines: [String] = []
        for family in [AF_INET, AF_INET6] {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 8)
            defer { buffer.deallocate() }
            let header = mnl_nlmsg_put_header(buffer)!
            header.pointee.nlmsg_type = UInt16(RTM_GETRULE)
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_DUMP)
            header.pointee.nlmsg_seq = socket.nextSequence()
            let rule = mnl_nlmsg_put_extra_header(header, MemoryLayout<fib_rule_hdr>.size)!
                .assumingMemoryBound(to: fib_rule_hdr.self)
            rule.pointee.family = UInt8(family)
            var found: [(mark: UInt32, table: UInt32, preference: UInt32)] = []
            _ = try socket.transact(UnsafeRawBufferPointer(start: buffer, count: Int(header.pointee.nlmsg_len)),
                                    expecting: []) { message in
                guard message.pointee.nlmsg_type == UInt16(RTM_NEWRULE) else { return }
                let ruleHeader = mnl_nlmsg_get_payload(message)!.assumingMemoryBound(to: fib_rule_hdr.self).pointee
                var attributes = RuleAttributes(table: UInt32(ruleHeader.table))
                _ = mnl_attr_parse(message, UInt32(MemoryLayout<fib_rule_hdr>.size), { attribute, data in
                    let target = data!.assumingMemoryBound(to: RuleAttributes.self)
                    switch Int32(mnl_attr_get_type(attribute)) {
                    case Int32(FRA_FWMARK): target.pointee.mark = mnl_attr_get_u32(attribute)
                    case Int32(FRA_TABLE): target.pointee.table = mnl_attr_get_u32(attribute)
                    case Int32(FRA_PRIORITY): target.pointee.preference = mnl_attr_get_u32(attribute)
                    default: break
                    }
                    return MNL_CB_OK
                }, &attributes)
                if let mark = attributes.mark, attributes.table == plan.table {
                    found.append((mark, attributes.table, attributes.preference))
                }
            }
            for entry in found {
                lines.append("\(family == AF_INET ? "ipv4" : "ipv6"): \(entry.preference): from all fwmark 0x\(String(entry.mark, radix: 16)) lookup \(entry.table)")
            }
        }
        return lines
    }

    // MARK: Messages

    private func deleteRules(_ plan: RoutingPlan, family: Int32) throws(FirewallError) -> Int {
        var deleted = 0
        // One rule per message; stop at the first "no such rule".
        while deleted < 64 {
            var gone = false
            try request(RTM_DELRULE, flags: 0, what: "ip rule", doing: "deleting " + describeRule(plan, family),
                        ignoring: [ENOENT, EAFNOSUPPORT], onIgnored: { gone = true }) {
                rule($0, plan, family: family)
            }
            if gone { break }
            deleted += 1
        }
        return deleted
    }

    private func rule(_ header: UnsafeMutablePointer<nlmsghdr>, _ plan: RoutingPlan, family: Int32) {
        let rule = mnl_nlmsg_put_extra_header(header, MemoryLayout<fib_rule_hdr>.size)!
            .assumingMemoryBound(to: fib_rule_hdr.self)
        rule.pointee.family = UInt8(family)
        rule.pointee.action = UInt8(FR_ACT_TO_TBL)
        rule.pointee.table = plan.table < 256 ? UInt8(plan.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        mnl_attr_put_u32(header, attr(FRA_FWMARK), plan.mark)
        mnl_attr_put_u32(header, attr(FRA_FWMASK), 0xffff_ffff)
        mnl_attr_put_u32(header, attr(FRA_TABLE), plan.table)
    }

    private func route(_ header: UnsafeMutablePointer<nlmsghdr>, _ plan: RoutingPlan, family: Int32) {
        let route = mnl_nlmsg_put_extra_header(header, MemoryLayout<rtmsg>.size)!.assumingMemoryBound(to: rtmsg.self)
        route.pointee.rtm_family = UInt8(family)
        route.pointee.rtm_dst_len = 0
        route.pointee.rtm_table = plan.table < 256 ? UInt8(plan.table) : UInt8(RT_TABLE_UNSPEC.rawValue)
        route.pointee.rtm_protocol = UInt8(RTPROT_STATIC)
        route.pointee.rtm_scope = UInt8(RT_SCOPE_HOST.rawValue)
        route.pointee.rtm_type = UInt8(RTN_LOCAL)
        mnl_attr_put_u32(header, attr(RTA_TABLE), plan.table)
        mnl_attr_put_u32(header, attr(RTA_OIF), loopbackIndex)
    }

    private func request<T: BinaryInteger>(_ type: T, flags: Int32, what: String, doing description: String,
                         ignoring ignored: Set<Int32> = [], onIgnored: () -> Void = {},
                         build: (UnsafeMutablePointer<nlmsghdr>) -> Void) throws(FirewallError) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 8)
        defer { buffer.deallocate() }
        memset(buffer, 0, 512)
        let header = mnl_nlmsg_put_header(buffer)!
        header.pointee.nlmsg_type = UInt16(type)
        header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK | flags)
        let sequence = socket.nextSequence()
        header.pointee.nlmsg_seq = sequence
        build(header)
        let answers = try socket.transact(UnsafeRawBufferPointer(start: buffer, count: Int(header.pointee.nlmsg_len)),
                                          expecting: [sequence])
        guard let error = answers[sequence] else {
            throw FirewallError(subsystem: what, errno: EIO, doing: description + " (no answer)")
        }
        if error == 0 { return }
        if ignored.contains(error) { onIgnored(); return }
        throw FirewallError(subsystem: what, errno: error, doing: description)
    }

    private func describeRule(_ plan: RoutingPlan, _ family: Int32) -> String {
        "ip \(family == AF_INET ? "-4" : "-6") rule fwmark 0x\(String(plan.mark, radix: 16)) lookup \(plan.table)"
    }

    private func describeRoute(_ plan: RoutingPlan, _ family: Int32) -> String {
        "ip \(family == AF_INET ? "-4" : "-6") route local \(family == AF_INET ? "0.0.0.0/0" : "::/0") dev lo table \(plan.table)"
    }
}

private struct RuleAttributes {
    var mark: UInt32?
    var table: UInt32
    var preference: UInt32 = 0
}
