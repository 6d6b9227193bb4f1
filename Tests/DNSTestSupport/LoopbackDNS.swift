import Foundation
import SystemSetupSupport

/// Loopback sockets for the test servers: a free port, a DNS query in wire format, and a
/// short UDP probe that tells whether a server answers for a zone.
enum LoopbackPort {
    /// A port free for UDP and TCP on 127.0.0.1, never handed out before in this process
    /// (see `LoopbackPorts`: a port the kernel picks could be taken again before NSD binds it).
    static func free() throws -> UInt16 { UInt16(try LoopbackPorts.reserve()) }

    static func bound(_ type: __socket_type, port: UInt16) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestDNSServer.Failure(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            throw TestDNSServer.Failure(description: "bind 127.0.0.1:\(port): \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// A query with one question, recursion desired.
    static func query(id: UInt16, name: String, type: UInt16) -> [UInt8] {
        var packet: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            packet.append(UInt8(label.utf8.count))
            packet += Array(label.utf8)
        }
        packet += [0, UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        return packet
    }

    /// Whether 127.0.0.1:port answers the zone's SOA with NOERROR and an answer.
    static func answersSOA(port: UInt16, zone: String) -> Bool {
        guard let socket = try? bound(SOCK_DGRAM, port: 0) else { return false }
        defer { close(socket.fd) }
        var server = sockaddr_in()
        server.sin_family = sa_family_t(AF_INET)
        server.sin_port = port.bigEndian
        server.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let packet = query(id: 0x4d4f, name: zone, type: 6)
        let sent = withUnsafePointer(to: &server) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(socket.fd, packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == packet.count else { return false }
        var descriptor = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 300) == 1 else { return false }
        var reply = [UInt8](repeating: 0, count: 4096)
        let count = recv(socket.fd, &reply, reply.count, 0)
        // NOERROR and at least one answer record.
        return count >= 12 && reply[3] & 0x0f == 0 && (reply[6] != 0 || reply[7] != 0)
    }
}

/// A DNS server that never answers: a UDP socket that is never read and a TCP port that
/// never accepts (the kernel completes the handshake, nothing more). Queries to it time out.
public final class SilentDNSServer: @unchecked Sendable {
    public let port: UInt16
    private let udp: Int32
    private let tcp: Int32

    public init() throws {
        let port = try LoopbackPort.free()
        let udp = try LoopbackPort.bound(SOCK_DGRAM, port: port)
        guard let tcp = try? LoopbackPort.bound(SOCK_STREAM, port: port) else {
            close(udp.fd)
            throw TestDNSServer.Failure(description: "port \(port) taken for TCP")
        }
        listen(tcp.fd, 16)
        self.port = udp.port
        self.udp = udp.fd
        self.tcp = tcp.fd
    }

    public func stop() {
        close(udp)
        close(tcp)
    }
}

/// A DNS server that answers every UDP query with an empty, truncated reply (TC set) and has
/// no TCP port: the retry over TCP is refused, so the answer never arrives whole.
public final class TruncatingDNSServer: @unchecked Sendable {
    public let port: UInt16
    private let fd: Int32
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopping = false
    /// Queries answered so far.
    public private(set) var answered = 0

    public init() throws {
        let udp = try LoopbackPort.bound(SOCK_DGRAM, port: 0)
        port = udp.port
        fd = udp.fd
        Thread.detachNewThread { [self] in serve() }
    }

    private func serve() {
        defer { done.signal() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !lock.withLock({ stopping }) {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) == 1 else { continue }
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            guard count >= 12 else { continue }
            // Header: same id, QR + AA + TC, the query's RD; the question copied; no records.
            var reply = Array(buffer[0..<count])
            reply[2] = 0x80 | 0x04 | 0x02 | (buffer[2] & 0x01)
            reply[3] = 0
            for index in 6..<12 { reply[index] = 0 }
            if let end = Self.questionEnd(reply) { reply = Array(reply[0..<end]) } else { reply = Array(reply[0..<12]); reply[5] = 0 }
            _ = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply, reply.count, 0, $0, length) }
            }
            lock.withLock { answered += 1 }
        }
    }

    /// The end of the first question (name, type, class), if the query holds one.
    static func questionEnd(_ packet: [UInt8]) -> Int? {
        var offset = 12
        while offset < packet.count {
            let length = Int(packet[offset])
            if length == 0 { return offset + 5 <= packet.count ? offset + 5 : nil }
            guard length < 64 else { return nil }
            offset += 1 + length
        }
        return nil
    }

    public func stop() {
        lock.withLock { stopping = true }
        done.wait()
        close(fd)
    }
}
