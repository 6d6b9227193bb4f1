import Foundation
import Logging
import MoatConfig
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The listening socket of one filter interface (Milter, spamd, rspamd, clamd), shared so each
/// protocol module holds only its codec and session logic.
///
/// UNIX sockets: the directory is created if needed, a stale socket file is removed only when
/// nobody answers on it, the socket is made 0666 (MTAs connect as their own users, as with
/// clamd's and rspamd's sockets) and removed at a clean stop. TCP: IPv4 and IPv6, SO_REUSEADDR.
/// On graceful shutdown the socket stops accepting and established connections get
/// `drainTime` to finish their message.
public struct InterfaceListener: Service {
    public let name: String
    public let address: ListenAddress
    let group: any EventLoopGroup
    let logger: Logger
    let drainTime: Duration
    let initializer: @Sendable (any Channel) -> EventLoopFuture<Void>

    public init(name: String, address: ListenAddress, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger, drainTime: Duration = .seconds(30),
                childChannelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) {
        self.name = name
        self.address = address
        self.group = group
        self.logger = logger
        self.drainTime = drainTime
        self.initializer = childChannelInitializer
    }

    public struct AlreadyInUse: Error, CustomStringConvertible {
        public let address: ListenAddress
        public var description: String { "another process already answers on \(address)" }
    }

    /// Binds, for callers (tests) that need the bound port before serving.
    public func bind() async throws -> any Channel {
        let connections = ConnectionTracker()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [initializer] channel in
                connections.opened(channel)
                return initializer(channel)
            }
        let channel: any Channel
        switch address {
        case .unix(let path):
            try Self.prepareUnixPath(path, address: address)
            channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
            chmod(path, 0o666)
        case .tcp(let host, let port):
            channel = try await bootstrap.bind(host: host, port: port).get()
        }
        Self.trackers.withLock { $0[ObjectIdentifier(channel)] = connections }
        return channel
    }

    public func run() async throws {
        let channel = try await bind()
        let bound = channel.localAddress.map { "\($0)" } ?? "\(address)"
        logger.notice("\(name) listening", metadata: ["address": "\(bound)"])
        try await serve(channel)
    }

    /// Serves until graceful shutdown, then drains.
    public func serve(_ channel: any Channel) async throws {
        let connections = Self.trackers.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
        if case .unix(let path) = address { unlink(path) }
        if let connections, await connections.drain(within: drainTime) == false {
            logger.warning("\(name): connections still open after \(drainTime); closing them")
            connections.closeAll()
        }
        logger.info("\(name) stopped")
    }

    private static let trackers = Mutex<[ObjectIdentifier: ConnectionTracker]>([:])

    static func prepareUnixPath(_ path: String, address: ListenAddress) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        }
        guard FileManager.default.fileExists(atPath: path) else { return }
        if UnixSocketProbe.isAnswering(path) { throw AlreadyInUse(address: address) }
        unlink(path)
    }
}

/// Keeps the open connections of one listener, so shutdown can wait for them.
final class ConnectionTracker: Sendable {
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    func opened(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        open.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in self.closed(id) }
    }

    private func closed(_ id: ObjectIdentifier) {
        _ = open.withLock { $0.removeValue(forKey: id) }
    }

    func drain(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if open.withLock({ $0.isEmpty }) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return open.withLock { $0.isEmpty }
    }

    func closeAll() {
        for channel in open.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

enum UnixSocketProbe {
    static func isAnswering(_ path: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return result == 0
    }
}
