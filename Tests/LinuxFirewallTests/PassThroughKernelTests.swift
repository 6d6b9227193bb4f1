import Foundation
import Testing
@testable import LinuxFirewall
#if canImport(Glibc)
import Glibc
#endif

/// The learned pass-through in the kernel, with a transparent listener standing for the Gate:
/// a pair in the set is forwarded to the server, not diverted; the connection stays forwarded
/// for its whole life (conntrack mark) even when its element expires or a reload rebuilds the
/// table; the sets are bounded.
@Suite(.serialized, .enabled(if: Kernel.available, "needs root and ip/nft for network namespaces"))
struct PassThroughKernelTests {
    static func send(_ text: String, _ from: Int32, to: Int32) -> Bool {
        let bytes = Array(text.utf8)
        guard write(from, bytes, bytes.count) == bytes.count else { return false }
        var received = [UInt8](repeating: 0, count: 256)
        return read(to, &received, 256) == bytes.count
    }

    /// `nft list set inet moat <name>` in the namespace.
    static func listSet(_ ns: Namespace, _ name: String) -> String {
        ns.exec("nft", "list", "set", "inet", "moat", name).out
    }

    @Test func aLearnedPairIsForwardedByTheKernelForItsWholeConnection() throws {
        let lab = try GatewayLab("p", net: 202)
        let (client, gateway, server) = (lab.client, lab.gateway, lab.server)
        let plan = DivertPlan(interface: "mfg0", protectedPorts: [25, 465])
        let (controller, gate4, gate6) = try gateway.inside {
            (try DivertController(), try TCP.listen("0.0.0.0", 20025, transparent: true),
             try TCP.listen("::", 20025, transparent: true))
        }
        defer { close(gate4); close(gate6) }
        try controller.apply(plan)
        let listed = try #require(gateway.moatTable)
        #expect(normalisedNft(listed) == normalisedNft(plan.nftText), "kernel:\n\(listed)")
        let (smtps4, smtps6) = try server.inside { (try TCP.listen("0.0.0.0", 465), try TCP.listen("::", 465)) }
        defer { close(smtps4); close(smtps6) }

        // Not learned yet: diverted to the listener (the Gate). It stays open throughout.
        let first = try client.inside { try TCP.connect("10.202.2.2", 465) }
        defer { close(first) }
        let diverted = try TCP.accept(gate4)
        defer { close(diverted.fd) }
        #expect(diverted.local == "10.202.2.2:465")

        let pair = try #require(PassThroughPair(client: "10.202.1.2", server: "10.202.2.2", port: 465))
        try controller.addPassThrough(pair, for: .seconds(600))
        #expect(Self.listSet(gateway, "passthrough_v4").contains("10.202.1.2 . 10.202.2.2 . 465 timeout 10m"),
                Comment(rawValue: Self.listSet(gateway, "passthrough_v4")))

        // Learned: the next connection reaches the server itself, from the client's address.
        let second = try client.inside { try TCP.connect("10.202.2.2", 465) }
        defer { close(second) }
        let direct = try TCP.accept(smtps4)
        defer { close(direct.fd) }
        #expect(direct.peer.hasPrefix("10.202.1.2:"))
        #expect(Self.send("220 direct\r\n", direct.fd, to: second) && Self.send("EHLO c\r\n", second, to: direct.fd))
        // The connection diverted before the pair was learned still goes through the listener.
        #expect(Self.send("EHLO still diverted\r\n", first, to: diverted.fd))
        #expect(Self.send("250 ok\r\n", diverted.fd, to: first))
        // Only that pair: port 25 of the same server is still diverted.
        let smtp = try client.inside { try TCP.connect("10.202.2.2", 25) }
        defer { close(smtp) }
        let smtpDiverted = try TCP.accept(gate4)
        close(smtpDiverted.fd)

        // A reload that rebuilds the table starts with empty sets: the pair's new connections
        // are diverted again, but the connection already passed through keeps flowing.
        var reloaded = plan
        reloaded.protectedPorts = [25, 110, 465]
        try controller.apply(reloaded)
        #expect(!Self.listSet(gateway, "passthrough_v4").contains("10.202.1.2"))
        #expect(Self.send("more after the reload\r\n", second, to: direct.fd), "the conntrack mark keeps it forwarded")
        #expect(Self.send("250 and back\r\n", direct.fd, to: second))
        let third = try client.inside { try TCP.connect("10.202.2.2", 465) }
        defer { close(third) }
        let divertedAgain = try TCP.accept(gate4)
        close(divertedAgain.fd)
        #expect(divertedAgain.local == "10.202.2.2:465")

        // IPv6 likewise.
        let pair6 = try #require(PassThroughPair(client: "fd00:202:1::2", server: "fd00:202:2::2", port: 465))
        try controller.addPassThrough(pair6, for: .seconds(600))
        #expect(Self.listSet(gateway, "passthrough_v6").contains("fd00:202:1::2 . fd00:202:2::2 . 465"))
        let v6 = try client.inside { try TCP.connect("fd00:202:2::2", 465) }
        defer { close(v6) }
        let direct6 = try TCP.accept(smtps6)
        defer { close(direct6.fd) }
        #expect(direct6.peer.hasPrefix("[fd00:202:1::2]:"))
        #expect(Self.send("220 direct v6\r\n", direct6.fd, to: v6))

        // An element's time-out: the pair expires, its open connection does not.
        let short = try #require(PassThroughPair(client: "10.202.1.2", server: "10.202.2.2", port: 465))
        try controller.addPassThrough(short, for: .seconds(1))
        let fourth = try client.inside { try TCP.connect("10.202.2.2", 465) }
        defer { close(fourth) }
        let direct4 = try TCP.accept(smtps4)
        defer { close(direct4.fd) }
        let deadline = Date().addingTimeInterval(30)
        while Self.listSet(gateway, "passthrough_v4").contains("10.202.1.2"), Date() < deadline { usleep(200_000) }
        #expect(!Self.listSet(gateway, "passthrough_v4").contains("10.202.1.2"), "the element expired")
        #expect(Self.send("after the expiry\r\n", fourth, to: direct4.fd))
        let fifth = try client.inside { try TCP.connect("10.202.2.2", 465) }
        defer { close(fifth) }
        let divertedAfterExpiry = try TCP.accept(gate4)
        close(divertedAfterExpiry.fd)

        try controller.remove()
        #expect(throws: FirewallError.self) { try controller.addPassThrough(pair, for: .seconds(60)) }
    }

    /// A port the Gate would only relay blindly is forwarded by the kernel; a reload that
    /// diverts it again leaves the connections already forwarded alone (the conntrack mark).
    @Test func anExemptPortIsForwardedAndStaysSoForItsConnections() throws {
        let lab = try GatewayLab("x", net: 203)
        let (client, gateway, server) = (lab.client, lab.gateway, lab.server)
        let exempt = DivertPlan(interface: "mfg0", protectedPorts: [25, 995], notDiverted: [995: "blind"])
        let (controller, gate4) = try gateway.inside { (try DivertController(), try TCP.listen("0.0.0.0", 20025, transparent: true)) }
        defer { close(gate4) }
        try controller.apply(exempt)
        let listed = try #require(gateway.moatTable)
        #expect(normalisedNft(listed) == normalisedNft(exempt.nftText), "kernel:\n\(listed)")
        let pop3s = try server.inside { try TCP.listen("0.0.0.0", 995) }
        defer { close(pop3s) }

        let forwarded = try client.inside { try TCP.connect("10.203.2.2", 995) }
        defer { close(forwarded) }
        let direct = try TCP.accept(pop3s)
        defer { close(direct.fd) }
        #expect(direct.peer.hasPrefix("10.203.1.2:"), "reached the server itself")
        #expect(Self.send("+OK direct\r\n", direct.fd, to: forwarded))

        // The reload diverts 995 again: new connections go to the Gate, the open one keeps flowing.
        try controller.apply(DivertPlan(interface: "mfg0", protectedPorts: [25, 995]))
        #expect(Self.send("STAT after the reload\r\n", forwarded, to: direct.fd))
        #expect(Self.send("+OK 0 0\r\n", direct.fd, to: forwarded))
        let next = try client.inside { try TCP.connect("10.203.2.2", 995) }
        defer { close(next) }
        let diverted = try TCP.accept(gate4)
        close(diverted.fd)
        #expect(diverted.local == "10.203.2.2:995")
        try controller.remove()
    }

    @Test func theSetsAreBounded() throws {
        let ns = try Namespace("ptfull")
        let controller = try ns.inside { try DivertController() }
        var plan = DivertPlan(interface: "eth0", protectedPorts: [993])
        plan.passThroughCapacity = 2
        try controller.apply(plan)
        #expect(Self.listSet(ns, "passthrough_v4").contains("size 2"))
        for host in 1...2 {
            try controller.addPassThrough(#require(PassThroughPair(client: "192.0.2.\(host)", server: "198.51.100.1", port: 993)),
                                          for: .seconds(60))
        }
        let third = try #require(PassThroughPair(client: "192.0.2.3", server: "198.51.100.1", port: 993))
        let error = #expect(throws: FirewallError.self) { try controller.addPassThrough(third, for: .seconds(60)) }
        #expect(error?.description.contains("the set is full") == true, "\(String(describing: error))")
        // Adding a pair that is there already is not an error.
        try controller.addPassThrough(#require(PassThroughPair(client: "192.0.2.1", server: "198.51.100.1", port: 993)),
                                      for: .seconds(60))
        try controller.remove()
    }
}

struct PassThroughPairTests {
    @Test func pairsThatTheSetsCannotHoldAreRefused() {
        #expect(PassThroughPair(client: "10.0.0.1", server: "fd00::1", port: 465) == nil, "mixed families")
        #expect(PassThroughPair(client: "mail.example", server: "10.0.0.1", port: 465) == nil)
        #expect(PassThroughPair(client: "10.0.0.1", server: "10.0.0.2", port: 0) == nil)
        let pair = PassThroughPair(client: "10.0.0.1", server: "10.0.0.2", port: 993)
        #expect(pair?.key == [10, 0, 0, 1, 10, 0, 0, 2, 0x03, 0xe1, 0, 0])
        #expect(PassThroughPair(client: "::1", server: "fd00::2", port: 995)?.key.count == 36)
    }
}
