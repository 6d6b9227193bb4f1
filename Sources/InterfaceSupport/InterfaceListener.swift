import Foundation
import Logging
import MoatConfig
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Telemetry

/// The listening socket of one filter interface (Milter, spamd, rspamd, clamd), shared so each
/// protocol module holds only its codec and session logic.
///
/// UNIX sockets: the directory is created if needed, a stale socket file is removed only when
/// nobody answers on it, the socket is made 0666 (MTAs connect as their own users, as with
/// clamd's and rspamd's sockets) and removed at a clean stop. TCP: IPv4 and IPv6, SO_REUSEADDR.
/// On graceful shutdown the socket stops accepting and established connections get
/// `drainTime` to finish their message.
///
/// At most `maxConnections` connections are open at once: one more gets `refusal` (the
/// protocol's "busy, try later" answer; nothing for Milter, which has no answer before
/// negotiation) and is closed, so idle or slow peers cannot take every descriptor of moatd
/// while the connections already open are served as before.
///
/// TCP connections acknowledge every read at once (`QuickAckHandler`).
public struct InterfaceListener: Service {
    public let name: String
    public let address: ListenAddress
    let group: any EventLoopGroup
    let logger: Logger
    let drainTime: Duration
    public let maxConnections: Int
    let refusal: [UInt8]
    let initializer: @Sendable (any Channel) -> EventLoopFuture<Void>
    let metrics: MoatMetrics

    /// The default cap of each filter listener (`[MailD] MilterMaxConnections`, ...).
    public static let defaultMaxConnections = 256

    public init(name: String, address: ListenAddress, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger, drainTime: Duration = .seconds(30), maxConnections: Int = InterfaceListener.defaultMaxConnections,
                refusal: [UInt8] = [], metrics: MoatMetrics = .disabled,
                childChannelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) {
        self.name = name
        self.address = address
        self.group = group
        self.logger = logger
        self.drainTime = drainTime
        self.maxConnections = max(1, maxConnections)
        self.refusal = refusal
        self.initializer = childChannelInitializer
        self.metrics = metrics
    }

    public struct AlreadyInUse: Error, CustomStringConvertible {
        public let address: ListenAddress
        public var description: String { "another process already answers on \(address)" }
    }

    /// Binds, for callers (tests) that need the bound port before serving.
    public func bind() async throws -> any Channel {
        let connections = ConnectionTracker(name: name, metrics: metrics)
        let limit = maxConnections, refusal = refusal, logger = logger, name = name
        let isTCP = if case .tcp = address { true } else { false }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [initializer] channel in
                guard connections.admit(channel, limit: limit) else {
                    if let refused = connections.refusedToReport() {
                        logger.warning("\(name): \(limit) connections open, the limit; \(refused) more refused")
                    }
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RefuseConnectionHandler(reply: refusal))
                    }
                }
                if isTCP {
                    do { try channel.pipeline.syncOperations.addHandler(QuickAckHandler()) } catch {
                        return channel.eventLoop.makeFailedFuture(error)
                    }
                }
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

/// A connection over the cap: the protocol's answer (if any), then the connection ends. Its
/// output is shut first and what the peer still sends is read and dropped until it closes
/// (5 s at most): closing with unread input would reset the connection and could destroy the
/// answer before the peer reads it.
final class RefuseConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let reply: [UInt8]

    init(reply: [UInt8]) { self.reply = reply }

    func channelActive(context: ChannelHandlerContext) {
        guard !reply.isEmpty else {
            context.close(promise: nil)
            return
        }
        let channel = context.channel
        channel.writeAndFlush(channel.allocator.buffer(bytes: reply)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
        channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
