import Foundation
import MoatConfig
import NIOCore
import NIOPosix
import Testing
@testable import MilterInterface

/// A blocking client socket speaking raw milter packets, for inputs no MTA sends.
final class RawClient: @unchecked Sendable {
    let fd: Int32

    init(port: Int, host: String = "127.0.0.1") throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else { throw POSIXError(.EINVAL) }
        defer { freeaddrinfo(info) }
        fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    init(unixPath: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(unixPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }

    /// The next reply packet (command, data) other than PROGRESS, or nil when the peer closed.
    func read() async -> Reply? {
        try? await blocking { self.readBlocking().map { Reply(command: $0.0, data: $0.1) } }
    }

    struct Reply: Sendable, Equatable { var command: UInt8; var data: [UInt8] }

    func readBlocking() -> (UInt8, [UInt8])? {
        while let packet = readPacket() {
            if packet.0 != Milter.Reply.progress { return packet }
        }
        return nil
    }

    func readPacket() -> (UInt8, [UInt8])? {
        func exactly(_ n: Int) -> [UInt8]? {
            var out = [UInt8](repeating: 0, count: n)
            var got = 0
            while got < n {
                let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
                if r <= 0 { return nil }
                got += r
            }
            return out
        }
        guard let head = exactly(4) else { return nil }
        let length = Int(head.reduce(0) { $0 << 8 | UInt32($1) })
        guard length > 0, let packet = exactly(length) else { return nil }
        return (packet[0], Array(packet.dropFirst()))
    }

    /// Version 6, every action, every protocol flag (no replies to the envelope steps).
    static let negotiation = Support.packet("O", Support.u32(6) + Support.u32(0x1FF) + Support.u32(0x1FFFFF))

    /// MAIL, RCPT, one header, the body and the end of the message.
    static func message(body: String) -> [UInt8] {
        Support.packet("M", Support.str0("<a@example.com>"))
            + Support.packet("R", Support.str0("<b@example.org>"))
            + Support.packet("L", Support.str0("Subject", " test"))
            + Support.packet("B", Array(body.utf8))
            + Support.packet("E")
    }

    func negotiate() async -> Reply? {
        send(Self.negotiation)
        return await read()
    }

    func message(body: String) {
        send(Self.message(body: body))
    }
}

@Suite("Bad input and sockets", .serialized)
struct BadInputTests {
    typealias S = Support

    func waitFor(_ server: LiveServer, _ text: String) async -> Bool {
        for _ in 0..<100 {
            if server.log.lines.contains(where: { $0.contains(text) }) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// An unknown packet and an oversized one close their own connections with a clear log
    /// line; another client in the middle of a message is not disturbed.
    @Test func badPacketsCloseOnlyTheirConnection() async throws {
        let server = try await LiveServer()
        let good = try RawClient(port: server.port)
        #expect(await good.negotiate()?.command == UInt8(ascii: "O"))
        good.send(S.packet("M", S.str0("<a@example.com>")))

        let unknown = try RawClient(port: server.port)
        #expect(await unknown.negotiate()?.command == UInt8(ascii: "O"))
        unknown.send(S.packet("Z", [1, 2, 3]))
        #expect(await unknown.read() == nil)
        #expect(await waitFor(server, "milter connection closed: unknown milter command 'Z' (3 data bytes)"))

        let oversized = try RawClient(port: server.port)
        #expect(await oversized.negotiate()?.command == UInt8(ascii: "O"))
        oversized.send(S.u32(50_000_000) + [UInt8(ascii: "B")] + [UInt8](repeating: 0, count: 1000))
        #expect(await oversized.read() == nil)
        #expect(await waitFor(server, "milter packet of 50000000 bytes is over the limit of 1048576"))

        let empty = try RawClient(port: server.port)
        empty.send(S.u32(0))
        #expect(await empty.read() == nil)

        good.send(S.packet("R", S.str0("<b@example.org>")))
        good.send(S.packet("B", Array("hello\r\n".utf8)))
        good.send(S.packet("E"))
        #expect(await good.read()?.command == UInt8(ascii: "a"))
        await server.stop()
    }

    /// A peer that disconnects in the middle of a (spooled) message: a log line, the spool
    /// file removed, the listener still serving.
    @Test func disconnectMidMessage() async throws {
        let server = try await LiveServer(profile: S.profile(spoolThreshold: 1000))
        do {
            let client = try RawClient(port: server.port)
            _ = await client.negotiate()
            client.send(S.packet("M", S.str0("<a@example.com>")))
            client.send(S.packet("B", [UInt8](repeating: 65, count: 5000)))
            client.send(Array(S.packet("B", [UInt8](repeating: 65, count: 100)).prefix(20)))
            try await Task.sleep(for: .milliseconds(200))
            #expect(try FileManager.default.contentsOfDirectory(atPath: server.spool).count == 1)
        }
        #expect(await waitFor(server, "closed"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.spool).isEmpty)
        let lines = server.log.lines.joined(separator: "\n")
        #expect(lines.contains("the MTA closed the connection in the middle of a packet")
            || lines.contains("the MTA closed the connection in the middle of a message"), "\(lines)")
        let next = try RawClient(port: server.port)
        #expect(await next.negotiate()?.command == UInt8(ascii: "O"))
        await server.stop()
    }

    /// Several clients at once, each with its own message and verdict.
    @Test func severalClientsAtOnce() async throws {
        let server = try await LiveServer()
        let clients = try (0..<8).map { _ in try RawClient(port: server.port) }
        for client in clients { _ = await client.negotiate() }
        for (n, client) in clients.enumerated() {
            client.message(body: n % 2 == 0 ? "clean \(n)\r\n" : S.eicar + "\r\n")
        }
        for (n, client) in clients.enumerated() {
            let reply = await client.read()
            if n % 2 == 0 {
                #expect(reply?.command == UInt8(ascii: "a"))
            } else {
                #expect(reply?.command == UInt8(ascii: "y"))
                #expect(reply.map { String(decoding: $0.data, as: UTF8.self) } == "550 5.7.1 The message contains a THREAT\0")
            }
        }
        await server.stop()
    }

    /// MilterSocket as a UNIX path: made 0666 (the MTA runs as its own user), a stale socket
    /// file from a crashed run replaced.
    @Test func unixSocket() async throws {
        let dir = try S.temporaryDirectory("moat-milter-sock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/run/milter.sock"
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        // A stale socket: bound, never unlinked, nobody listening.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
            raw[path.utf8.count] = 0
        }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(stale)
        #expect(FileManager.default.fileExists(atPath: path))

        let profile = S.profile()
        let listener = MilterInterface.listener(address: .unix(path: path), profile: { profile }, core: S.core(spool: dir + "/spool"),
                                                spoolDirectory: dir + "/spool", group: MultiThreadedEventLoopGroup.singleton,
                                                logger: .init(label: "test"))
        #expect(listener.name == "MailD.Milter")
        let channel = try await listener.bind()
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o666)
        let client = try RawClient(unixPath: path)
        #expect(await client.negotiate()?.command == UInt8(ascii: "O"))
        client.message(body: "hi\r\n")
        #expect(await client.read()?.command == UInt8(ascii: "a"))
        try await channel.close()
    }

    /// TCP over IPv6 loopback, and the address forms of MilterSocket.
    @Test func ipv6AndAddressForms() async throws {
        let server = try await LiveServer(address: "::1")
        let client = try RawClient(port: server.port, host: "::1")
        #expect(await client.negotiate()?.command == UInt8(ascii: "O"))
        await server.stop()
        #expect(try ListenAddress(parsing: "inet:7357@127.0.0.1") == .tcp(host: "127.0.0.1", port: 7357))
        #expect(try ListenAddress(parsing: "127.0.0.1:7357") == .tcp(host: "127.0.0.1", port: 7357))
        #expect(try ListenAddress(parsing: "[::1]:7357") == .tcp(host: "::1", port: 7357))
        #expect(try ListenAddress(parsing: "/run/moat/milter.sock") == .unix(path: "/run/moat/milter.sock"))
    }
}
