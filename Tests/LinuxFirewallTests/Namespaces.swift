import Foundation
import SystemSetupSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs a command to its end; output and status.
@discardableResult
func sh(_ executable: String, _ arguments: [String]) -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    do { try process.run() } catch { return (-1, "", "\(error)") }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@discardableResult
func ip(_ arguments: String...) -> (status: Int32, out: String, err: String) { sh("/usr/sbin/ip", arguments) }

enum Kernel {
    /// Root, `ip` and `nft` present, and a network namespace can be made.
    static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip"),
              FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") else { return false }
        let name = "moatfw-probe-\(getpid())"
        guard (try? SystemSetup.lockedBlocking { ip("netns", "add", name).status }) == 0 else { return false }
        ip("netns", "del", name)
        return true
    }()
}

/// A network namespace made by the test and deleted at the end.
final class Namespace: @unchecked Sendable {
    let name: String

    init(_ tag: String) throws {
        name = "moatfw-\(tag)-\(getpid())"
        // `ip netns add` mounts /run/netns the first time: concurrent first calls (suites in
        // parallel, other test processes) go one at a time under the machine-wide set-up lock.
        let result = try SystemSetup.lockedBlocking { () -> (status: Int32, out: String, err: String) in
            ip("netns", "del", name)
            return ip("netns", "add", name)
        }
        guard result.status == 0 else { throw TestFailure("ip netns add \(name): \(result.err)") }
        ip("-n", name, "link", "set", "lo", "up")
    }

    deinit { ip("netns", "del", name) }

    /// `nft list table inet moat` inside the namespace; nil when there is no such table.
    var moatTable: String? {
        let result = sh("/usr/sbin/ip", ["netns", "exec", name, "nft", "list", "table", "inet", "moat"])
        return result.status == 0 ? result.out : nil
    }

    @discardableResult
    func run(_ arguments: String...) -> (status: Int32, out: String, err: String) {
        sh("/usr/sbin/ip", ["-n", name] + arguments)
    }

    @discardableResult
    func exec(_ arguments: String...) -> (status: Int32, out: String, err: String) {
        sh("/usr/sbin/ip", ["netns", "exec", name] + arguments)
    }

    /// Runs `body` on a thread of its own that entered the namespace (setns is per thread for
    /// network namespaces); sockets opened there stay in the namespace whatever thread uses them.
    func inside<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>()
        box.body = body
        let done = DispatchSemaphore(value: 0)
        let path = "/var/run/netns/\(name)"
        let thread = Thread {
            defer { done.signal() }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                box.result = .failure(TestFailure("open \(path): \(String(cString: strerror(errno)))"))
                return
            }
            defer { close(fd) }
            guard setNetworkNamespace(fd) == 0 else {
                box.result = .failure(TestFailure("setns \(path): \(String(cString: strerror(errno)))"))
                return
            }
            box.result = Result { try box.body!() }
        }
        thread.start()
        done.wait()
        return try box.result!.get()
    }
}

/// client —veth— gateway —veth— server in three namespaces, IPv4 (10.<net>.1.0/24 on the
/// client side, 10.<net>.2.0/24 on the server side) and IPv6 (fd00:<net>:1::/64, fd00:<net>:2::/64),
/// the gateway forwarding, with the sysctls the divert needs. The gateway's client-side
/// interface is `mfg0`. Addresses: client .1.2, gateway .1.1 / .2.1, server .2.2.
struct GatewayLab {
    let client: Namespace, gateway: Namespace, server: Namespace

    init(_ tag: String, net: Int) throws {
        client = try Namespace(tag + "c")
        gateway = try Namespace(tag + "g")
        server = try Namespace(tag + "s")
        func must(_ result: (status: Int32, out: String, err: String), _ what: String) throws {
            guard result.status == 0 else { throw TestFailure("\(what): \(result.err)") }
        }
        try must(ip("link", "add", "mfc0", "netns", client.name, "type", "veth", "peer", "name", "mfg0", "netns", gateway.name), "veth c-g")
        try must(ip("link", "add", "mfs0", "netns", server.name, "type", "veth", "peer", "name", "mfg1", "netns", gateway.name), "veth s-g")
        for (ns, device, v4, v6) in [(client, "mfc0", "10.\(net).1.2/24", "fd00:\(net):1::2/64"),
                                     (gateway, "mfg0", "10.\(net).1.1/24", "fd00:\(net):1::1/64"),
                                     (gateway, "mfg1", "10.\(net).2.1/24", "fd00:\(net):2::1/64"),
                                     (server, "mfs0", "10.\(net).2.2/24", "fd00:\(net):2::2/64")] {
            try must(ns.run("addr", "add", v4, "dev", device), "addr \(v4)")
            try must(ns.run("-6", "addr", "add", v6, "dev", device, "nodad"), "addr \(v6)")
            try must(ns.run("link", "set", device, "up"), "up \(device)")
        }
        try must(client.run("route", "add", "default", "via", "10.\(net).1.1"), "client route")
        try must(client.run("-6", "route", "add", "default", "via", "fd00:\(net):1::1"), "client route6")
        try must(server.run("route", "add", "default", "via", "10.\(net).2.1"), "server route")
        try must(server.run("-6", "route", "add", "default", "via", "fd00:\(net):2::1"), "server route6")
        for setting in ["net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv4.conf.all.rp_filter=0",
                        "net.ipv4.conf.mfg0.rp_filter=0", "net.ipv4.conf.all.send_redirects=0"] {
            try must(gateway.exec("sysctl", "-qw", setting), setting)
        }
    }
}

/// setns(2) for network namespaces (Glibc declares it only with _GNU_SOURCE).
private func setNetworkNamespace(_ fd: Int32) -> Int32 {
    typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return -1 }
    return unsafeBitCast(symbol, to: SetNS.self)(fd, 0x4000_0000 /* CLONE_NEWNET */)
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
    var body: (() throws -> T)?
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The nft text without comments and blank lines, each line trimmed.
func normalisedNft(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
        var line = String(line)
        if let hash = line.firstIndex(of: "#") { line = String(line[..<hash]) }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// The repository's `nft/` folder.
let nftDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("nft")

// MARK: Plain sockets for the traffic test

enum TCP {
    static func address(_ text: String, port: UInt16) -> (storage: sockaddr_storage, length: socklen_t, family: Int32) {
        var storage = sockaddr_storage()
        if text.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, text, &address.sin6_addr)
            withUnsafeBytes(of: address) { source in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
            }
            return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size), AF_INET6)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, text, &address.sin_addr)
        withUnsafeBytes(of: address) { source in
            withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: source) }
        }
        return (storage, socklen_t(MemoryLayout<sockaddr_in>.size), AF_INET)
    }

    static func describe(_ storage: sockaddr_storage) -> String {
        var copy = storage
        var text = [CChar](repeating: 0, count: 64)
        if Int32(storage.ss_family) == AF_INET6 {
            return withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var raw = address.pointee.sin6_addr
                    inet_ntop(AF_INET6, &raw, &text, 64)
                    return "[\(String(cString: text))]:\(UInt16(bigEndian: address.pointee.sin6_port))"
                }
            }
        }
        return withUnsafePointer(to: &copy) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                var raw = address.pointee.sin_addr
                inet_ntop(AF_INET, &raw, &text, 64)
                return "\(String(cString: text)):\(UInt16(bigEndian: address.pointee.sin_port))"
            }
        }
    }

    private static func socket(_ family: Int32, transparent: Bool) throws -> Int32 {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size)) }
        if transparent {
            let result = family == AF_INET6
                ? setsockopt(fd, Int32(IPPROTO_IPV6), 75 /* IPV6_TRANSPARENT */, &on, socklen_t(MemoryLayout<Int32>.size))
                : setsockopt(fd, Int32(IPPROTO_IP), 19 /* IP_TRANSPARENT */, &on, socklen_t(MemoryLayout<Int32>.size))
            guard result == 0 else { throw TestFailure("IP_TRANSPARENT: \(String(cString: strerror(errno)))") }
        }
        return fd
    }

    /// A listening socket (with IP_TRANSPARENT: the Gate's kind of listener).
    static func listen(_ host: String, _ port: UInt16, transparent: Bool = false) throws -> Int32 {
        var (storage, length, family) = address(host, port: port)
        let fd = try socket(family, transparent: transparent)
        let bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let error = String(cString: strerror(errno))
            close(fd)
            throw TestFailure("bind/listen \(host):\(port): \(error)")
        }
        return fd
    }

    /// Connects (optionally from a given, possibly foreign, address with IP_TRANSPARENT).
    static func connect(_ host: String, _ port: UInt16, from source: String? = nil) throws -> Int32 {
        var (storage, length, family) = address(host, port: port)
        let fd = try socket(family, transparent: source != nil)
        if let source {
            var (local, localLength, _) = address(source, port: 0)
            let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, localLength) } }
            guard bound == 0 else {
                let error = String(cString: strerror(errno))
                close(fd)
                throw TestFailure("bind \(source): \(error)")
            }
        }
        let connected = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) } }
        guard connected == 0 else {
            let error = String(cString: strerror(errno))
            close(fd)
            throw TestFailure("connect \(host):\(port): \(error)")
        }
        return fd
    }

    /// Accepts one connection: (local address = original destination under TPROXY, peer).
    static func accept(_ listener: Int32) throws -> (fd: Int32, local: String, peer: String) {
        var peer = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) } }
        guard fd >= 0 else { throw TestFailure("accept: \(String(cString: strerror(errno)))") }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) } }
        return (fd, describe(local), describe(peer))
    }
}
