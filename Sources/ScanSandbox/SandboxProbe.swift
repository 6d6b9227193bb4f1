#if DEBUG
import Foundation

/// Test builds only: what a worker can do from inside its sandbox. Each field is true when the
/// attempt succeeded; a sound sandbox answers false for everything but `scratchWritable`.
struct SandboxProbe: Codable, Sendable {
    var uid: UInt32
    var tcpSocket: Bool
    var udpSocket: Bool
    var unixSocketConnect: Bool
    /// Paths opened for reading with success.
    var readable: [String]
    /// Paths created for writing with success.
    var writable: [String]
    var scratchWritable: Bool
    var addressSpaceLimit: UInt64

    static func run(readPaths: [String], writePaths: [String]) -> SandboxProbe {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
        return SandboxProbe(
            uid: getuid(),
            tcpSocket: opens(socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)),
            udpSocket: opens(socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)),
            unixSocketConnect: connectsUnix(),
            readable: readPaths.filter { opens(open($0, O_RDONLY)) },
            writable: writePaths.filter { opens(open($0, O_WRONLY | O_CREAT, 0o600)) },
            scratchWritable: opens(open("/tmp/moat-probe-\(getpid())", O_WRONLY | O_CREAT, 0o600)),
            addressSpaceLimit: UInt64(limit.rlim_cur))
    }

    private static func opens(_ fd: Int32) -> Bool {
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// A unix socket may be made (the supervisor needs socketpairs), but not connected anywhere.
    private static func connectsUnix() -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in "/run/moat/control.sock".utf8.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }
}
#endif
