import Foundation
import Testing
@testable import LinuxFirewall
#if canImport(Glibc)
import Glibc
#endif

/// End to end: client —veth— gateway (divert on its client-side interface) —veth— server,
/// three namespaces. A transparent listener on the gateway (what the Gate will be) receives
/// the client's connection to the server's port 25 and sees the server's address as its local
/// address; other ports pass; the gateway's own upstream connections are not diverted, and one
/// made from the client's address (InputDivertConnectTransparently) gets its replies.
@Suite(.serialized, .enabled(if: Kernel.available, "needs root and ip/nft for network namespaces"))
struct DivertTrafficTests {
    @Test func protectedPortReachesTheTransparentListener() throws {
        let lab = try GatewayLab("c", net: 201)
        let (client, gateway, server) = (lab.client, lab.gateway, lab.server)

        let plan = DivertPlan(interface: "mfg0", protectedPorts: [25, 110])
        let (controller, gate4, gate6) = try gateway.inside {
            (try DivertController(), try TCP.listen("0.0.0.0", 20025, transparent: true),
             try TCP.listen("::", 20025, transparent: true))
        }
        defer { close(gate4); close(gate6) }
        try controller.apply(plan)
        let (smtp4, smtp6, web) = try server.inside {
            (try TCP.listen("0.0.0.0", 25), try TCP.listen("::", 25), try TCP.listen("0.0.0.0", 80))
        }
        defer { close(smtp4); close(smtp6); close(web) }

        // IPv4 to the server's port 25: the gateway's transparent listener gets it.
        let c4 = try client.inside { try TCP.connect("10.201.2.2", 25) }
        defer { close(c4) }
        let d4 = try TCP.accept(gate4)
        defer { close(d4.fd) }
        #expect(d4.local == "10.201.2.2:25", "original destination by getsockname")
        #expect(d4.peer.hasPrefix("10.201.1.2:"))
        let ehlo = Array("EHLO client\r\n".utf8)
        #expect(write(c4, ehlo, ehlo.count) == ehlo.count)
        var received = [UInt8](repeating: 0, count: 64)
        #expect(read(d4.fd, &received, 64) == ehlo.count, "data of the diverted connection reaches the listener")
        #expect(write(d4.fd, ehlo, ehlo.count) == ehlo.count)
        #expect(read(c4, &received, 64) == ehlo.count, "and its answers reach the client")

        // IPv6 likewise.
        let c6 = try client.inside { try TCP.connect("fd00:201:2::2", 25) }
        defer { close(c6) }
        let d6 = try TCP.accept(gate6)
        defer { close(d6.fd) }
        #expect(d6.local == "[fd00:201:2::2]:25")
        #expect(d6.peer.hasPrefix("[fd00:201:1::2]:"))

        // A port that is not protected is routed to the server as usual.
        let c80 = try client.inside { try TCP.connect("10.201.2.2", 80) }
        defer { close(c80) }
        let s80 = try TCP.accept(web)
        defer { close(s80.fd) }
        #expect(s80.peer.hasPrefix("10.201.1.2:"))

        // The gateway's own upstream connection to port 25 is not diverted again.
        let up = try gateway.inside { try TCP.connect("10.201.2.2", 25) }
        defer { close(up) }
        let s25 = try TCP.accept(smtp4)
        defer { close(s25.fd) }
        #expect(s25.peer.hasPrefix("10.201.2.1:"))

        // From the client's own address (InputDivertConnectTransparently): the server's replies
        // to 10.201.1.2 come back to the gateway's transparent socket (socket rule + fwmark routing).
        let spoofed = try gateway.inside { try TCP.connect("10.201.2.2", 25, from: "10.201.1.2") }
        defer { close(spoofed) }
        let s25t = try TCP.accept(smtp4)
        defer { close(s25t.fd) }
        #expect(s25t.peer.hasPrefix("10.201.1.2:"))
        let hello = Array("220 mx ready\r\n".utf8)
        #expect(write(s25t.fd, hello, hello.count) == hello.count)
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(spoofed, &buffer, 64)
        #expect(count == hello.count, "the reply reached the transparent upstream socket")

        let spoofed6 = try gateway.inside { try TCP.connect("fd00:201:2::2", 25, from: "fd00:201:1::2") }
        defer { close(spoofed6) }
        let s25t6 = try TCP.accept(smtp6)
        defer { close(s25t6.fd) }
        #expect(s25t6.peer.hasPrefix("[fd00:201:1::2]:"))

        try controller.remove()
        // With the divert gone, port 25 reaches the server directly.
        let direct = try client.inside { try TCP.connect("10.201.2.2", 25) }
        defer { close(direct) }
        let s25d = try TCP.accept(smtp4)
        defer { close(s25d.fd) }
        #expect(s25d.peer.hasPrefix("10.201.1.2:"))
    }
}
