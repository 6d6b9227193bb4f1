import CNetfilter
import Foundation

/// Holds the netlink sockets and what is installed in the kernel. The nftables socket is the
/// owner of `table inet moat` (unless fail-closed): keep this object alive for the daemon's
/// life; when it is released (or the process dies) the kernel deletes the table.
///
/// Everything happens in the network namespace of the thread that created the object.
public final class DivertController: @unchecked Sendable {
    private let lock = NSLock()
    private let nft: NetlinkSocket
    private let routing: PolicyRouting
    private var installed: DivertPlan?
    private var installedRouting: RoutingPlan?
    private var notes: [String] = []

    public init() throws(FirewallError) {
        nft = try NetlinkSocket(bus: NETLINK_NETFILTER, subsystem: "nftables")
        let route = try NetlinkSocket(bus: NETLINK_ROUTE, subsystem: "rtnetlink")
        let loopback = if_nametoindex("lo")
        routing = PolicyRouting(socket: route, loopbackIndex: loopback == 0 ? 1 : loopback)
    }

    /// The nftables socket's port id: the table's owner as the kernel reports it.
    public var ownerPortID: UInt32 { nft.portID }

    /// Installs the plan, or replaces what is installed with it in one atomic nftables batch;
    /// nil removes everything. On an error the previous state stays in force.
    public func apply(_ plan: DivertPlan?) throws(FirewallError) {
        try apply(plan, failingAtEnd: false)
    }

    func apply(_ plan: DivertPlan?, failingAtEnd: Bool) throws(FirewallError) {
        lock.lock()
        defer { lock.unlock() }
        guard let plan else {
            try removeLocked()
            return
        }
        if plan == installed { return }
        // Say it the way an administrator looks for it, before touching the routing.
        if !Self.hasNetAdminCapability {
            throw FirewallError(subsystem: "nftables", errno: EPERM, doing: "installing table inet moat")
        }
        var newNotes: [String] = []
        let previousRouting = installedRouting
        if previousRouting != plan.routing {
            newNotes += try routing.install(plan.routing)
        }
        do throws(FirewallError) {
            var batch = NftBatch(socket: nft)
            defer { batch.free() }
            batch.ensureTable()
            batch.deleteTable()
            batch.addTable(plan)
            if failingAtEnd { batch.addFailingRule() }
            do throws(FirewallError) { try batch.commit() } catch {
                throw explained(error)
            }
        } catch {
            // Leave the routing as it was too.
            if previousRouting != plan.routing {
                try? routing.remove(plan.routing)
                if let previousRouting { _ = try? routing.install(previousRouting) }
            }
            throw error
        }
        if let previousRouting, previousRouting != plan.routing {
            try routing.remove(previousRouting)
        }
        installed = plan
        installedRouting = plan.routing
        notes = newNotes.isEmpty && previousRouting == plan.routing ? notes : newNotes
    }

    /// Puts a learned pair in the kernel's pass-through set for `duration`: its next connections
    /// are forwarded by the kernel, not diverted. Over the table owner's socket. Fails when
    /// nothing is installed, the set is full (ENFILE) or the table was removed behind our back.
    public func addPassThrough(_ pair: PassThroughPair, for duration: Duration) throws(FirewallError) {
        lock.lock()
        defer { lock.unlock() }
        guard installed != nil else {
            throw FirewallError(subsystem: "nftables", errno: ESRCH, doing: "adding \(pair) to the pass-through set (no divert installed)")
        }
        let milliseconds = UInt64(clamping: duration.components.seconds) * 1000
            + UInt64(duration.components.attoseconds / 1_000_000_000_000_000)
        var batch = NftBatch(socket: nft)
        defer { batch.free() }
        batch.addPassThrough(pair, milliseconds: milliseconds)
        try batch.commit()
    }

    /// Removes the table, the rules and the routes Moat added. Safe to call when nothing is installed.
    public func remove() throws(FirewallError) {
        lock.lock()
        defer { lock.unlock() }
        try removeLocked()
    }

    /// CAP_NET_ADMIN (bit 12) in the effective set, from /proc/self/status; true when unknown.
    static var hasNetAdminCapability: Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return true }
        return mask & (1 << 12) != 0
    }

    /// EPERM from nftables has two causes: no CAP_NET_ADMIN, or a table owned by someone else.
    private func explained(_ error: FirewallError) -> FirewallError {
        guard error.code == .notPermitted, error.subsystem == "nftables",
              let table = try? tableInfo(), table.owned, !table.ownedByUs else { return error }
        return .ownedByAnother(port: table.ownerPortID, doing: "installing the divert")
    }

    private func removeLocked() throws(FirewallError) {
        var batch = NftBatch(socket: nft)
        defer { batch.free() }
        batch.ensureTable()
        batch.deleteTable()
        do throws(FirewallError) { try batch.commit() } catch {
            throw explained(error)
        }
        installed = nil
        if let installedRouting {
            try routing.remove(installedRouting)
            self.installedRouting = nil
        }
        notes = []
    }

    /// What is installed, and what the kernel says about it.
    public func status(listing: Bool = true) -> DivertStatus {
        lock.lock()
        defer { lock.unlock() }
        var status = DivertStatus(plan: installed, notes: notes)
        status.kernelTable = try? tableInfo()
        if let installedRouting { status.routingRules = (try? routing.listRules(installedRouting)) ?? [] }
        if listing { status.kernelListing = DivertStatus.nftList() }
        return status
    }

    /// `table inet moat` as the kernel reports it over netlink: its flags and owner, or nil.
    private func tableInfo() throws(FirewallError) -> DivertStatus.KernelTable? {
        let table = nftnl_table_alloc()!
        defer { nftnl_table_free(table) }
        nftnl_table_set_str(table, attr(NFTNL_TABLE_NAME), DivertPlan.tableName)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 8)
        defer { buffer.deallocate() }
        let sequence = nft.nextSequence()
        let header = nftnl_nlmsg_build_hdr(buffer.assumingMemoryBound(to: CChar.self), UInt16(NFT_MSG_GETTABLE.rawValue),
                                           UInt16(NFPROTO_INET), UInt16(NLM_F_ACK), sequence)!
        nftnl_table_nlmsg_build_payload(header, table)
        var found: DivertStatus.KernelTable?
        let answers = try nft.transact(UnsafeRawBufferPointer(start: buffer, count: Int(header.pointee.nlmsg_len)),
                                       expecting: [sequence]) { message in
            let parsed = nftnl_table_alloc()!
            defer { nftnl_table_free(parsed) }
            guard nftnl_table_nlmsg_parse(message, parsed) >= 0 else { return }
            let flags = nftnl_table_get_u32(parsed, attr(NFTNL_TABLE_FLAGS))
            let owner = nftnl_table_is_set(parsed, attr(NFTNL_TABLE_OWNER)) ? nftnl_table_get_u32(parsed, attr(NFTNL_TABLE_OWNER)) : nil
            found = DivertStatus.KernelTable(owned: flags & UInt32(NFT_TABLE_F_OWNER.rawValue) != 0, ownerPortID: owner,
                                             ownedByUs: owner == self.nft.portID)
        }
        if let error = answers[sequence], error != 0, error != ENOENT {
            throw FirewallError(subsystem: "nftables", errno: error, doing: "listing table inet moat")
        }
        return found
    }
}

/// The divert state for `moat-ctl` and the logs.
public struct DivertStatus: Sendable, CustomStringConvertible {
    public struct KernelTable: Sendable, Hashable {
        /// NFT_TABLE_F_OWNER: the kernel deletes the table with its owner's socket.
        public var owned: Bool
        public var ownerPortID: UInt32?
        public var ownedByUs: Bool
    }

    /// What moatd installed; nil when nothing is.
    public var plan: DivertPlan?
    public var installed: Bool { plan != nil }
    /// Whether `table inet moat` exists in the kernel, and its owner.
    public var kernelTable: KernelTable?
    /// `nft list table inet moat` output, when the nft tool is there.
    public var kernelListing: String?
    /// The fwmark rules found in the kernel for the plan's table, as `ip rule` shows them.
    public var routingRules: [String] = []
    /// Things worth knowing (IPv6 routing unavailable, ...).
    public var notes: [String]

    init(plan: DivertPlan?, notes: [String]) {
        self.plan = plan
        self.notes = notes
    }

    /// One line for `moat-ctl appinfo`.
    public var summary: String {
        guard let plan else { return kernelTable == nil ? "not installed" : "not installed by this moatd, but table inet moat exists" }
        let ports = plan.divertedPorts.map(String.init).joined(separator: ",")
        let kernel = kernelTable == nil ? "table inet moat MISSING in the kernel" : "table inet moat in the kernel"
        return "diverting \(plan.interface) ports \(ports) to :\(plan.gatePort), \(plan.failClosed ? "fail-closed" : "fail-open"), \(kernel)"
            + (routingRules.isEmpty ? ", fwmark rules MISSING" : "")
            + (plan.notDiverted.isEmpty ? "" : ", not diverted (relayed by the kernel): "
                + plan.notDiverted.keys.sorted().map(String.init).joined(separator: ","))
    }

    public var description: String {
        guard let plan else {
            return kernelTable == nil ? "divert: not installed" : "divert: not installed by this moatd, but table inet moat exists"
        }
        var lines = [
            "divert: installed on \(plan.interface), ports \(plan.divertedPorts.map(String.init).joined(separator: ",")) "
                + "to :\(plan.gatePort), mark 0x\(String(plan.mark, radix: 16)), routing table \(plan.routingTable)",
            plan.failClosed
                ? "mode: fail-closed (the table stays if moatd dies; mail stops until moatd is back or the table is deleted)"
                : "mode: fail-open (table owned by moatd: the kernel removes it if moatd dies)",
        ]
        switch kernelTable {
        case nil: lines.append("kernel: table inet moat MISSING (deleted by someone else? reload moatd)")
        case let table?:
            lines.append("kernel: table inet moat present" + (table.owned ? ", owner port \(table.ownerPortID.map(String.init) ?? "?")" : ", no owner"))
        }
        lines += plan.notDiverted.sorted(by: { $0.key < $1.key }).map { "not diverted: port \($0.key): \($0.value)" }
        lines += routingRules.map { "rule: " + $0 }
        lines += plan.routingText.filter { $0.contains("route") }.map { "route: " + $0 }
        lines += notes.map { "note: " + $0 }
        if let kernelListing { lines.append(kernelListing.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return lines.joined(separator: "\n")
    }

    /// Runs `nft list table inet moat` in moatd's network namespace.
    static func nftList() -> String? {
        guard let nft = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: nft)
        process.arguments = ["list", "table", "inet", DivertPlan.tableName]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
