import Foundation
import Logging
import MailD
import MoatService
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The control socket: a UNIX socket only root can open (directory 0700, socket 0600, both
/// moatd's user's), one JSON request per line, one JSON answer per line. moatd runs as
/// `[Root] User`, which could open the socket too: every connection's peer is checked
/// (SO_PEERCRED) and only `allowedPeers` (root) are answered.
public struct ControlServer: Service {
    public let path: String
    let router: ControlRouter
    let group: any EventLoopGroup
    let logger: Logger
    let allowedPeers: Set<uid_t>

    public init(path: String, service: any DaemonService, group: any EventLoopGroup, logger: Logger,
                allowedPeers: Set<uid_t> = [0]) {
        self.path = path
        self.router = ControlRouter(service: service)
        self.group = group
        self.logger = logger
        self.allowedPeers = allowedPeers
    }

    /// One accepted connection and who is at the other end (nil when the kernel did not say).
    struct Connection: Sendable {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let peer: PeerCredentials?
    }

    public func run() async throws {
        try ControlSocketPath.prepare(path)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 32)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                PeerCredentials.of(channel).flatMapThrowing { peer in
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maxLength: 64 * 1024)))
                    return Connection(channel: try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel),
                                      peer: peer)
                }
            }
        // The process umask (0077) already keeps the socket private between bind and here.
        chmod(path, 0o600)
        logger.notice("control socket listening", metadata: ["path": "\(path)"])
        defer { unlink(path) }

        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { tasks in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        tasks.addTask { await serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
        logger.info("control socket closed")
    }

    private func serve(_ connection: Connection) async {
        let allowed = connection.peer.map { allowedPeers.contains($0.uid) } ?? false
        if !allowed {
            logger.warning("control connection refused: only root may talk to moatd", metadata: [
                "uid": "\(connection.peer.map { String($0.uid) } ?? "unknown")",
                "pid": "\(connection.peer.map { String($0.pid) } ?? "unknown")",
            ])
        }
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                for try await line in inbound {
                    let response = allowed
                        ? await respond(to: line)
                        : ControlResponse(ok: false, message: "permission denied: only root may talk to moatd", denied: true)
                    var data = try JSONEncoder().encode(response)
                    data.append(UInt8(ascii: "\n"))
                    try await outbound.write(ByteBuffer(bytes: data))
                }
            }
        } catch {
            logger.info("control connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private func respond(to line: ByteBuffer) async -> ControlResponse {
        do {
            let request = try JSONDecoder().decode(ControlRequest.self, from: Data(line.readableBytesView))
            logger.debug("control request", metadata: ["command": "\(request.command.rawValue)"])
            return await router.respond(to: request)
        } catch {
            return ControlResponse(ok: false, message: "malformed control request")
        }
    }
}

enum ControlSocketPath {
    struct AlreadyServed: Error, CustomStringConvertible {
        let path: String
        var description: String { "another process already answers on the control socket \(path)" }
    }

    /// Creates the socket's directory (0700 when Moat creates it) and refuses to take over a
    /// socket that another live moatd still answers on.
    static func prepare(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        if ControlClient.isAnswering(path) { throw AlreadyServed(path: path) }
    }
}
