import Foundation
import MoatConfig
import Testing
@testable import LinuxFirewall

private func values(_ settings: [String: ConfigValue]) -> ConfigValues {
    var explicit: [ParameterKey: ConfigValue] = [:]
    for (name, value) in settings { explicit[ParameterKey("LinuxFirewall", name)] = value }
    return ConfigValues(schema: .moat, explicit: explicit)
}

private let example = DivertPlan(interface: "eth0", protectedPorts: [25, 110, 143])

@Suite struct DivertPlanTests {
    @Test func offMeansNoPlan() {
        #expect(DivertPlan(values: ConfigValues(schema: .moat)) == nil)
        #expect(DivertPlan(values: values(["InputDivert": .divert(.off)])) == nil)
    }

    @Test func settingsBecomeThePlan() {
        let plan = DivertPlan(values: values([
            "InputDivert": .divert(.auto(interface: "ens3", protectedPorts: [143, 25, 110, 25])),
            "GatePort": .integer(2525), "FirewallMark": .integer(0x40), "RoutingTable": .integer(77),
            "FailClosed": .bool(true),
        ]))
        #expect(plan == DivertPlan(interface: "ens3", protectedPorts: [25, 110, 143], gatePort: 2525, mark: 0x40,
                                   routingTable: 77, failClosed: true))
        #expect(plan?.rules == [
            .passedThroughConnection(mark: 0x40),
            .transparentSocket(mark: 0x40),
            .exemptPort(mark: 0x40),
            .passThrough(family: .ipv4, mark: 0x40),
            .passThrough(family: .ipv6, mark: 0x40),
            .divert(interface: "ens3", family: .ipv4, gatePort: 2525, mark: 0x40),
            .divert(interface: "ens3", family: .ipv6, gatePort: 2525, mark: 0x40),
        ])
        #expect(plan?.routingText == [
            "ip -4 rule add fwmark 0x40 lookup 77", "ip -4 route add local 0.0.0.0/0 dev lo table 77",
            "ip -6 rule add fwmark 0x40 lookup 77", "ip -6 route add local ::/0 dev lo table 77",
        ])
    }

    @Test func portsTheGateWouldOnlyRelayBlindlyAreNotDiverted() throws {
        let settings = values(["InputDivert": .divert(.auto(interface: "eth0", protectedPorts: [25, 110, 143, 465, 8080]))])
        let reasons = [110: "POP3 with InspectPop3 = Off", 8080: "no protocol"]
        let plan = try #require(DivertPlan(values: settings) { reasons[$0] })
        #expect(plan.protectedPorts == [25, 110, 143, 465, 8080])
        #expect(plan.divertedPorts == [25, 143, 465])
        #expect(plan.notDiverted == reasons)
        #expect(plan.nftText.contains("set protected_ports {\n\t\ttype inet_service\n\t\telements = { 25, 143, 465 }"), "\(plan.nftText)")
        #expect(plan.nftText.contains("set exempt_ports {\n\t\ttype inet_service\n\t\telements = { 110, 8080 }"), "\(plan.nftText)")
        #expect(plan != DivertPlan(values: settings), "a reload that changes the reasons changes the plan")

        // Every port left to the kernel: an empty set, still the table (and its pass-through sets).
        let none = try #require(DivertPlan(values: settings) { _ in "blind" })
        #expect(none.divertedPorts.isEmpty)
        #expect(none.nftText.components(separatedBy: "elements").count == 2, "only exempt_ports has elements: \(none.nftText)")
        #expect(none.nftText.contains("set passthrough_v4 {"))
    }

    @Test func passThroughRulesComeAfterTheSocketRuleAndBeforeTheDivert() {
        let rules = example.rules.map(\.nftText)
        #expect(rules.count == 7)
        #expect(rules[0] == "ct mark & 0x00000001 == 0x00000001 accept",
                "a connection decided at its first packet costs one conntrack lookup per packet")
        #expect(rules[1].hasPrefix("meta l4proto tcp socket transparent 1"),
                "packets of connections the Gate already holds stay with it, even once their pair is learned")
        #expect(rules[2] == "ct state new tcp dport @exempt_ports ct mark set ct mark | 0x00000001 accept")
        #expect(rules[3] == "ct state new ip saddr . ip daddr . tcp dport @passthrough_v4 ct mark set ct mark | 0x00000001 accept")
        #expect(rules[4] == "ct state new ip6 saddr . ip6 daddr . tcp dport @passthrough_v6 ct mark set ct mark | 0x00000001 accept")
        #expect(rules[5].contains("tproxy ip to :20025") && rules[6].contains("tproxy ip6 to :20025"))
        #expect(example.nftText.contains("\t\tsize 65536\n\t\tflags timeout\n"))
    }

    @Test func defaultsAreFailOpenOnPort20025() {
        let plan = DivertPlan(values: values(["InputDivert": .divert(.auto(interface: "eth0", protectedPorts: [25, 110, 143]))]))
        #expect(plan == example)
        #expect(plan?.failClosed == false)
        #expect(plan?.nftText.contains("flags owner") == true)
    }

    @Test func renderedTextIsTheNftFile() throws {
        let file = try String(contentsOf: nftDirectory.appendingPathComponent("moat-divert.nft"), encoding: .utf8)
        #expect(normalisedNft(example.nftText) == normalisedNft(file))
    }

    @Test func failClosedTableHasNoOwnerFlag() {
        var plan = example
        plan.failClosed = true
        #expect(!plan.nftText.contains("flags owner"))
        #expect(plan.nftText.contains("tproxy ip6 to :20025"))
    }

    @Test func errorsSayWhatIsMissing() {
        let denied = FirewallError(subsystem: "nftables", errno: EPERM, doing: "adding table inet moat")
        #expect(denied.code == .notPermitted)
        #expect(denied.description.hasPrefix("nftables: Operation not permitted (need CAP_NET_ADMIN"))
    }
}

/// The kernel side, in network namespaces the tests make (root only).
@Suite(.serialized, .enabled(if: Kernel.available, "needs root and ip/nft for network namespaces"))
struct KernelDivertTests {
    @Test func installedRulesetIsTheNftFile() throws {
        let ns = try Namespace("list")
        let controller = try ns.inside { try DivertController() }
        try controller.apply(example)

        let listed = try #require(ns.moatTable, "table inet moat is in the kernel")
        let file = try String(contentsOf: nftDirectory.appendingPathComponent("moat-divert.nft"), encoding: .utf8)
        #expect(normalisedNft(listed) == normalisedNft(file), "kernel:\n\(listed)")

        #expect(ns.run("-4", "rule").out.contains("fwmark 0x1 lookup 100"))
        #expect(ns.run("-6", "rule").out.contains("fwmark 0x1 lookup 100"))
        #expect(ns.run("-4", "route", "show", "table", "100").out.contains("local default dev lo"))
        #expect(ns.run("-6", "route", "show", "table", "100").out.contains("local default dev lo"))

        let status = controller.status(listing: false)
        #expect(status.installed)
        #expect(status.kernelTable == .init(owned: true, ownerPortID: controller.ownerPortID, ownedByUs: true))
        #expect(status.routingRules.count == 2, "\(status.routingRules)")
        #expect(status.description.contains("fail-open"))
        #expect(status.summary == "diverting eth0 ports 25,110,143 to :20025, fail-open, table inet moat in the kernel")

        // Owned: `nft flush ruleset` skips it, and nobody else may delete or change it.
        #expect(ns.exec("nft", "flush", "ruleset").status == 0)
        #expect(ns.moatTable == listed)
        #expect(ns.exec("nft", "delete", "table", "inet", "moat").err.contains("Operation not permitted"))
        #expect(ns.exec("nft", "add", "rule", "inet", "moat", "prerouting", "accept").status != 0)

        // Installing the same plan again stacks nothing.
        try controller.apply(example)
        try controller.apply(nil)
        try controller.apply(example)
        #expect(ns.run("-4", "rule").out.components(separatedBy: "fwmark 0x1").count == 2)

        try controller.remove()
        #expect(ns.moatTable == nil, "stop removes the table")
        #expect(!ns.run("-4", "rule").out.contains("fwmark"))
        #expect(!ns.run("-6", "rule").out.contains("fwmark"))
        #expect(ns.run("-4", "route", "show", "table", "100").out.isEmpty)
        #expect(!controller.status(listing: false).installed)
    }

    @Test func reloadReplacesTheRulesetAndTheRouting() throws {
        let ns = try Namespace("reload")
        let controller = try ns.inside { try DivertController() }
        try controller.apply(example)
        let changed = DivertPlan(interface: "veth9", protectedPorts: [587, 25], gatePort: 20026, mark: 0x20,
                                 routingTable: 120)
        try controller.apply(changed)
        let listed = try #require(ns.moatTable)
        #expect(normalisedNft(listed) == normalisedNft(changed.nftText), "kernel:\n\(listed)")
        let rules = ns.run("-4", "rule").out
        #expect(rules.contains("fwmark 0x20 lookup 120"))
        #expect(!rules.contains("lookup 100"), "the old rule is gone: \(rules)")
        #expect(ns.run("-4", "route", "show", "table", "100").out.isEmpty)
        #expect(ns.run("-4", "route", "show", "table", "120").out.contains("local default dev lo"))

        // Fail-open to fail-closed on reload: the table loses its owner.
        var closed = changed
        closed.failClosed = true
        try controller.apply(closed)
        #expect(normalisedNft(try #require(ns.moatTable)) == normalisedNft(closed.nftText))
        try controller.remove()
        #expect(ns.moatTable == nil)
    }

    @Test func aRefusedReloadLeavesTheOldRulesetAndRouting() throws {
        let ns = try Namespace("atomic")
        let controller = try ns.inside { try DivertController() }
        try controller.apply(example)
        let before = try #require(ns.moatTable)
        let changed = DivertPlan(interface: "eth1", protectedPorts: [587], gatePort: 20026, mark: 0x30, routingTable: 130)
        #expect {
            try controller.apply(changed, failingAtEnd: true)
        } throws: { error in
            "\(error)".contains("no-such-chain")
        }
        #expect(ns.moatTable == before, "the batch deleted and re-created the table, yet nothing of it happened")
        #expect(ns.run("-4", "rule").out.contains("fwmark 0x1 lookup 100"))
        #expect(!ns.run("-4", "rule").out.contains("lookup 130"), "the new routing was rolled back")
        #expect(controller.status(listing: false).plan == example)
        try controller.remove()
    }

    @Test func theKernelDropsAnOwnedTableWithItsSocket() throws {
        let ns = try Namespace("owner")
        var controller: DivertController? = try ns.inside { try DivertController() }
        try controller?.apply(example)
        #expect(ns.moatTable != nil)
        controller = nil // the socket closes, as when moatd dies
        #expect(ns.moatTable == nil, "fail-open: the divert went with its owner")
        ns.run("-4", "rule", "del", "fwmark", "1", "lookup", "100")
    }

    @Test func aFailClosedTableOutlivesItsSocket() throws {
        let ns = try Namespace("closed")
        var plan = example
        plan.failClosed = true
        var controller: DivertController? = try ns.inside { try DivertController() }
        try controller?.apply(plan)
        controller = nil
        #expect(ns.moatTable != nil, "fail-closed: the divert stays")
        // The next moatd takes it over and removes it.
        let next = try ns.inside { try DivertController() }
        try next.apply(example)
        #expect(normalisedNft(try #require(ns.moatTable)).contains("flags owner"))
        try next.remove()
        #expect(ns.moatTable == nil)
    }

    @Test func aSecondMoatdCannotTakeAnOwnedTable() throws {
        let ns = try Namespace("second")
        let first = try ns.inside { try DivertController() }
        try first.apply(example)
        let second = try ns.inside { try DivertController() }
        #expect {
            try second.apply(example)
        } throws: { error in
            (error as? FirewallError)?.code == .notPermitted
                && "\(error)".contains("owned by another process")
        }
        #expect(ns.moatTable != nil, "the first one's table is untouched")
        try first.remove()
    }
}
