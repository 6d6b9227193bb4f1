import Foundation
import Synchronization

/// Ports on 127.0.0.1 for the servers a test starts (moatd, PostgreSQL, NSD, Postfix, sinks).
///
/// Why not "bind port 0, read the port, close": that port comes from the kernel's ephemeral
/// range, which every outgoing connection of the test process (hundreds at once, tests run in
/// parallel) and every other "port 0" bind draw from too. Between the close and the server's own
/// bind, another socket could take it, and the server then failed with "Address already in use".
/// CI saw it in four different tests. The ports here come from below the ephemeral range, where
/// the kernel never picks on its own, and each is handed out once per process. Each is checked
/// free for TCP and UDP, so a DNS server may use it for both.
public enum LoopbackPorts {
    private static let state = Mutex<Int?>(nil)

    /// A port nobody listens on or was given before in this process.
    public static func reserve() throws -> Int {
        let range = candidates()
        return try state.withLock { next -> Int in
            // A start that differs per process keeps two test runs on one machine apart.
            var candidate = next ?? range.lowerBound + Int(getpid()) % range.count
            for _ in 0..<range.count {
                if candidate >= range.upperBound { candidate = range.lowerBound }
                let port = candidate
                candidate += 1
                if isFree(port, type: SOCK_STREAM) && isFree(port, type: SOCK_DGRAM) {
                    next = candidate
                    return port
                }
            }
            throw SystemSetup.Failure("no free loopback port in \(range)")
        }
    }

    /// From 10000 up to where the kernel's ephemeral ports begin (32768 by default).
    static func candidates() -> Range<Int> {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        return 10000..<max(low, 10100)
    }

    /// Whether a socket of `type` can bind 127.0.0.1:port (without SO_REUSEADDR, so a port
    /// still in TIME_WAIT counts as taken).
    static func isFree(_ port: Int, type: __socket_type) -> Bool {
        let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
