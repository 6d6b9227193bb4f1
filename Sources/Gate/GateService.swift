import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The mail protocols the Gate knows, by the original destination port.
public enum GateProtocol: String, Sendable {
    case smtp = "SMTP", pop3 = "POP3", imap = "IMAP"

    public static func forPort(_ port: Int) -> GateProtocol? {
        switch port {
        case 25, 587: .smtp
        case 110: .pop3
        case 143: .imap
        default: nil
        }
    }
}

/// The Gate: the transparent listener the divert rules send connections to.
///
/// Each accepted socket's local address (getsockname) is the destination the client wanted
/// (TPROXY keeps it). The Gate connects there, from the client's own address when
/// `InputDivertConnectTransparently = Yes` (IP_TRANSPARENT + bind to the client address), else
/// from the gateway's, and relays: SMTP through `SMTPRelaySession` when `InspectSmtp = On`,
/// POP3 (110) and IMAP (143) through `POP3RelaySession` /
/// `IMAPRelaySession` when `InspectPop3` / `InspectImap` are On, everything else blindly (ports it has no relay for, implicit TLS, `Inspect* = Off`).
public struct GateService: Service {
    /// Linux socket options not named by NIO.
    enum SocketOptions {
        static let solIP: Int32 = 0          // SOL_IP
        static let ipTransparent: Int32 = 19 // IP_TRANSPARENT
        static let solIPv6: Int32 = 41       // SOL_IPV6
        static let ipv6Transparent: Int32 = 75
        static let ipv6Only: Int32 = 26

        static func option(_ level: Int32, _ name: Int32) -> ChannelOptions.Types.SocketOption {
            ChannelOptions.Types.SocketOption(level: NIOBSDSocket.OptionLevel(rawValue: level),
                                              name: NIOBSDSocket.Option(rawValue: name))
        }

        /// IP_TRANSPARENT / IPV6_TRANSPARENT: accept diverted connections, bind foreign addresses.
        static func transparent(v6: Bool) -> ChannelOptions.Types.SocketOption {
            v6 ? option(solIPv6, ipv6Transparent) : option(solIP, ipTransparent)
        }
    }

    public struct Options: Sendable {
        /// Listen addresses (all IPv4 and IPv6 by default).
        public var hosts = ["0.0.0.0", "::"]
        /// Tests: the port to listen on instead of GatePort (0: any).
        public var port: Int?
        /// Tests without a divert: connections go here instead of to their local address.
        public var upstreamOverride: SocketAddress?
        /// Tests without a divert: the protocol instead of the one the port implies.
        public var protocolOverride: GateProtocol?
        /// Tests: timeouts instead of the defaults.
        public var timeouts: GateTimeouts?
        /// Set IP_TRANSPARENT on the listening sockets (needs CAP_NET_ADMIN).
        public var transparent = true
        public var drainTime: Duration = .seconds(30)
        /// Moat's CA and leaf issuer, for `UnwrapSsl = Yes`; nil: TLS is always relayed blindly.
        public var tls: TLSInterception?
        /// Tests without a divert: treat connections as made to this port (465/993/995: implicit
        /// TLS; 25: opportunistic upstream TLS) while they go to `upstreamOverride`.
        public var destinationPortOverride: Int?
        /// moatd: puts a pair learned on an implicit-TLS port (client, server address, port,
        /// time) in the kernel's pass-through set, so its next connections are not diverted at
        /// all; false when the kernel did not take it (the Gate relays the pair itself then).
        public var kernelPassThrough: (@Sendable (_ client: String, _ server: String, _ port: Int, _ duration: Duration) -> Bool)?
        /// Tests: see `GateContext.spoolReadHook`.
        var spoolReadHook: (@Sendable (_ path: String, _ chunk: Int) -> Void)?
        /// Tests: see `GateContext.checkHook`.
        var checkHook: (@Sendable () async -> Void)?

        public init() {}
    }

    /// Ports where TLS starts at once, and the protocol inside.
    static let implicitTLSPorts: [Int: GateProtocol] = [465: .smtp, 993: .imap, 995: .pop3]

    let store: SettingsStore
    let context: GateContext
    let group: any EventLoopGroup
    let options: Options
    let logger: Logger
    private let tracker: ConnectionTracker
    /// Client/server pairs whose TLS is relayed untouched for a while.
    let passThrough = TLSPassThroughList()

    public init(settings: SettingsStore, core: MailCore, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "Gate"), options: Options = Options()) {
        self.store = settings
        self.tracker = ConnectionTracker(name: "Gate", metrics: core.metrics)
        var context = GateContext(core: core, profiles: ProfileCache(store: settings, name: "LinuxFirewall"), logger: logger,
                                  spoolLimit: GateSettings(settings.current.values).maxSpoolSize)
        context.spoolReadHook = options.spoolReadHook
        context.checkHook = options.checkHook
        self.context = context
        self.group = group
        self.options = options
        self.logger = logger
    }

    /// Binds the listeners; an address family the system lacks is skipped, with a warning.
    public func bind() async throws -> [any Channel] {
        let settings = GateSettings(store.current.values)
        let port = options.port ?? settings.gatePort
        var channels: [any Channel] = []
        var firstError: (any Error)?
        for host in options.hosts {
            let v6 = host.contains(":")
            var bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: Self.listenBacklog(maxConnections: settings.maxConnections))
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                .childChannelOption(.autoRead, value: false)
                .childChannelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture { try accept(channel) }
                }
            if options.transparent {
                bootstrap = bootstrap.serverChannelOption(
                    SocketOptions.transparent(v6: v6),
                    value: 1)
            }
            if v6 {
                bootstrap = bootstrap.serverChannelOption(
                    SocketOptions.option(SocketOptions.solIPv6, SocketOptions.ipv6Only), value: 1)
            }
            do {
                channels.append(try await bootstrap.bind(host: host, port: port).get())
            } catch {
                logger.warning("Gate cannot listen on [\(host)]:\(port): \(error)")
                firstError = firstError ?? error
            }
        }
        if channels.isEmpty, let firstError { throw firstError }
        let somaxconn = (try? String(contentsOfFile: "/proc/sys/net/core/somaxconn", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if let advice = Self.listenQueueAdvice(somaxconn: somaxconn, maxConnections: settings.maxConnections) {
            logger.warning("\(advice)")
        }
        return channels
    }

    /// What to tell the administrator when the kernel keeps the listen queue shorter than
    /// MaxConnections (older kernels' `somaxconn` was 128): nil when it does not.
    static func listenQueueAdvice(somaxconn: Int?, maxConnections: Int) -> String? {
        guard let somaxconn, somaxconn < maxConnections else { return nil }
        return "the kernel keeps the Gate's listen queue at \(somaxconn) (net.core.somaxconn), below MaxConnections "
            + "(\(maxConnections)): a burst of more new clients than that may leave some waiting for a greeting; "
            + "raise it with `sysctl -w net.core.somaxconn=\(maxConnections)` and restart moatd"
    }

    /// The listen queue holds a burst of new connections until a loop accepts them; it is as
    /// long as MaxConnections, 1,024 at least (those past MaxConnections are accepted and told
    /// to come back), and the kernel caps it at `net.core.somaxconn`. A short queue loses
    /// clients silently: once as many handshakes are pending as the queue is long, the kernel
    /// answers further SYNs with SYN cookies and keeps no state, and the client's ACK that
    /// completes such a handshake is dropped if the accept queue is full just then. The client
    /// believes it is connected and, SMTP, POP3 and IMAP servers speaking first, waits for a
    /// greeting that never comes until its own timeout (5 minutes for an MTA). With the former
    /// 256, 36 of 1,000 clients connecting at once were lost so (`Benchmarks/Scale/RESULTS.md`).
    /// Read at start: a MaxConnections raised by `reload` lengthens the queue at the next start.
    static func listenBacklog(maxConnections: Int) -> Int32 {
        Int32(clamping: max(maxConnections, 1024))
    }

    public func run() async throws {
        let channels = try await bind()
        for channel in channels {
            logger.notice("Gate listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        }
        try await serve(channels)
    }

    public func serve(_ channels: [any Channel]) async throws {
        await withGracefulShutdownHandler {
            for channel in channels { try? await channel.closeFuture.get() }
        } onGracefulShutdown: {
            for channel in channels { channel.close(promise: nil) }
        }
        if await tracker.drain(within: options.drainTime) == false {
            logger.warning("Gate: relayed connections still open after \(options.drainTime); closing them")
            tracker.closeAll()
        }
        logger.info("Gate stopped")
    }

    // MARK: - One connection

    private func accept(_ channel: any Channel) throws {
        let settings = { var s = GateSettings(store.current.values); if let t = options.timeouts { s.timeouts = t }; return s }()
        guard let local = channel.localAddress, let peer = channel.remoteAddress else {
            channel.close(promise: nil)
            return
        }
        let destination: SocketAddress
        if let override = options.upstreamOverride {
            destination = override
        } else {
            // A client that connects to the Gate's own port was not diverted: relaying it would
            // connect the Gate to itself, again and again.
            guard local.port != settings.gatePort else {
                logger.warning("refusing a direct connection to the Gate port", metadata: ["client": "\(peer)"])
                channel.close(promise: nil)
                return
            }
            destination = local
        }
        context.spoolQuota.setLimit(settings.maxSpoolSize)
        let port = options.destinationPortOverride ?? destination.port ?? 0
        guard tracker.admit(channel, limit: settings.maxConnections) else {
            refuseOverCap(channel, port: port, settings: settings, peer: peer)
            return
        }
        let info = ConnectionInfo(clientAddress: peer.ipAddress, clientPort: peer.port,
                                  serverAddress: destination.ipAddress, serverPort: destination.port)
        if let inner = Self.implicitTLSPorts[port], let tls = options.tls, settings.inspects(inner) {
            try startImplicitTLS(channel, protocol: inner, port: port, tls: tls, settings: settings, info: info,
                                 to: destination, source: peer)
            return
        }
        let proto = options.protocolOverride ?? GateProtocol.forPort(destination.port ?? 0)
        guard let proto, settings.inspects(proto) else {
            try start(channel, session: SMTPRelaySession?.none, settings: settings, info: info, to: destination, source: peer)
            return
        }
        let relay = makeRelay(proto, client: channel, settings: settings, info: info)
        relay.startTLS = options.tls.map { startTLSUpgrade(proto, tls: $0, port: port, settings: settings, info: info) }
        try start(channel, relay: relay, settings: settings, to: destination, source: peer)
    }

    /// At MaxConnections: the protocol's own "busy, come back later" and close, so a client
    /// retries instead of hanging; implicit TLS and ports without a relay are just closed.
    private func refuseOverCap(_ channel: any Channel, port: Int, settings: GateSettings, peer: SocketAddress) {
        logger.warning("MaxConnections (\(settings.maxConnections)) reached: connection refused",
                       metadata: ["client": "\(peer)"])
        let text: String? = switch options.protocolOverride ?? GateProtocol.forPort(port) {
        case .smtp?: "421 4.3.2 Too many connections through this gateway, try again later\r\n"
        case .pop3?: "-ERR [SYS/TEMP] Too many connections through this gateway, try again later\r\n"
        case .imap?: "* BYE [UNAVAILABLE] Too many connections through this gateway, try again later\r\n"
        case nil: nil
        }
        guard let text, Self.implicitTLSPorts[port] == nil else {
            channel.close(promise: nil)
            return
        }
        channel.writeAndFlush(ByteBuffer(string: text)).whenComplete { _ in channel.close(promise: nil) }
    }

    /// The relay for an inspected protocol.
    func makeRelay(_ proto: GateProtocol, client: any Channel, settings: GateSettings, info: ConnectionInfo) -> any RelayEndpoint {
        switch proto {
        case .smtp:
            var configuration = SMTPRelaySession.Configuration()
            configuration.maxMessageSize = settings.maxMessageSize
            return RelayShell(client: client, session: SMTPRelaySession(configuration: configuration), context: context,
                                   settings: settings, info: info)
        case .pop3:
            let session = POP3RelaySession(configuration: .init(scanTop: settings.scanPop3Top,
                                                                maxMessageSize: settings.maxMessageSize))
            return RelayShell(client: client, session: session, context: context, settings: settings, info: info)
        case .imap:
            let session = IMAPRelaySession(configuration: .init(maxLiteralSize: settings.maxMessageSize))
            return RelayShell(client: client, session: session, context: context, settings: settings, info: info)
        }
    }

    /// Which TLS sessions are unwrapped, for one connection.
    func unwrapDecision(_ proto: GateProtocol, settings: GateSettings, info: ConnectionInfo,
                        pair: TLSPassThroughList.Pair) -> @Sendable (String?) -> Bool {
        let profiles = context.profiles
        let passThrough = self.passThrough
        let logger = self.logger
        return { sni in
            let decision = UnwrapDecision.decide(settings: settings, profile: profiles.current, protocol: proto, info: info,
                                                 sni: sni, passedThrough: passThrough.contains(pair))
            logger.info("TLS \(decision.unwrap ? "unwrapped" : "relayed untouched, unscanned")",
                        metadata: ["client": "\(pair.client ?? "?")", "server": "\(pair.server)",
                                   "sni": "\(sni ?? "-")", "why": "\(decision.why)"])
            return decision.unwrap
        }
    }

    static func pair(_ info: ConnectionInfo) -> TLSPassThroughList.Pair {
        TLSPassThroughList.Pair(client: info.clientAddress, server: "\(info.serverAddress ?? "?"):\(info.serverPort ?? 0)")
    }

    /// STARTTLS/STLS in a relayed session: both legs upgraded in place by `TLSUnwrapper`.
    func startTLSUpgrade(_ proto: GateProtocol, tls: TLSInterception, port: Int, settings: GateSettings,
                         info: ConnectionInfo) -> StartTLSUpgrade {
        let unwrapper = TLSUnwrapper(tls: tls, passThrough: passThrough, logger: logger)
        let pair = Self.pair(info)
        let shouldUnwrap = unwrapDecision(proto, settings: settings, info: info, pair: pair)
        return StartTLSUpgrade { client, server, done in
            do {
                try unwrapper.intercept(
                    client: client, port: port, settings: settings, pair: pair, upstream: .existing(server),
                    callbacks: .init(shouldUnwrap: shouldUnwrap,
                                     unwrapped: { _, sni in done(.unwrapped(sni: sni)) },
                                     blind: { done(.blind) },
                                     failed: { done(.failed) }))
            } catch {
                done(.failed)
            }
        }
    }

    /// Implicit TLS (SMTPS 465, POP3S 995, IMAPS 993): the server is reached and verified over
    /// TLS first, then the client's handshake is answered with a leaf from Moat's CA, and the
    /// protocol's relay runs inside. Not unwrapped (UnwrapSsl, rules, pass-through): relayed blindly.
    func startImplicitTLS(_ client: any Channel, protocol proto: GateProtocol, port: Int, tls: TLSInterception,
                          settings: GateSettings, info: ConnectionInfo, to destination: SocketAddress,
                          source: SocketAddress) throws {
        let pair = Self.pair(info)
        let unwrapper = TLSUnwrapper(tls: tls, passThrough: passThrough, logger: logger)
        try unwrapper.intercept(
            client: client, port: port, settings: settings, pair: pair,
            upstream: .connect({ [self] configure in
                do {
                    return try upstreamBootstrap(client, settings: settings, source: source).channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try configure(channel) }
                    }.connect(to: destination)
                } catch {
                    return client.eventLoop.makeFailedFuture(error)
                }
            }),
            callbacks: .init(
                shouldUnwrap: unwrapDecision(proto, settings: settings, info: info, pair: pair),
                unwrapped: { [self] upstream, sni in
                    let relay = makeRelay(proto, client: client, settings: settings, info: info)
                    relay.tls = RelayTLSState(unwrapped: true, sni: sni)
                    try client.pipeline.syncOperations.addHandler(RelaySideHandler(side: .client, relay: relay))
                    try upstream.pipeline.syncOperations.addHandler(RelaySideHandler(side: .server, relay: relay))
                    relay.connectUpstream = { relay.serverConnected(upstream) }
                    relay.clientActive()
                },
                blind: { [self] in
                    try start(client, session: SMTPRelaySession?.none, settings: settings, info: info, to: destination, source: source)
                },
                failed: { client.close(promise: nil) },
                learned: kernelPassThrough(port: port, info: info)))
    }

    /// Implicit TLS only: a learned client/server pair goes to the kernel too. Never for
    /// STARTTLS ports (25, 587, 110, 143): a client on the kernel's list there would be
    /// forwarded without the Gate, and could send plaintext mail without STARTTLS unscanned.
    /// Pairs without a client (a server that failed verification) stay in the Gate.
    func kernelPassThrough(port: Int, info: ConnectionInfo) -> @Sendable (TLSPassThroughList.Pair, Duration) -> Void {
        guard Self.implicitTLSPorts[port] != nil, let handOver = options.kernelPassThrough,
              let client = info.clientAddress, let server = info.serverAddress else { return { _, _ in } }
        let logger = self.logger
        return { pair, duration in
            guard pair.client == client, duration > .zero else { return }
            if !handOver(client, server, port, duration) {
                logger.info("pass-through kept in the Gate (the kernel did not take it)",
                            metadata: ["client": "\(client)", "server": "\(server):\(port)"])
            }
        }
    }

    /// The upstream connection's bootstrap: from the client's address when configured.
    func upstreamBootstrap(_ client: any Channel, settings: GateSettings, source: SocketAddress) throws -> ClientBootstrap {
        var bootstrap = ClientBootstrap(group: client.eventLoop)
            .connectTimeout(TimeAmount(settings.timeouts.connect))
            .channelOption(.socketOption(.so_keepalive), value: 1)
        if settings.connectTransparently, options.upstreamOverride == nil, let ip = source.ipAddress {
            bootstrap = bootstrap
                .channelOption(SocketOptions.transparent(v6: source.protocol == .inet6), value: 1)
                // Port 0: reusing the client's port would clash with the diverted flow's tuple.
                .bind(to: try SocketAddress(ipAddress: ip, port: 0))
        }
        return bootstrap
    }

    /// Glues `client` to a new connection to `destination` under `session` (nil: blind).
    func start<Session: RelaySession>(_ client: any Channel, session: Session?, settings: GateSettings,
                                              info: ConnectionInfo, to destination: SocketAddress,
                                              source: SocketAddress) throws {
        try start(client, relay: RelayShell(client: client, session: session, context: context, settings: settings, info: info),
                  settings: settings, to: destination, source: source)
    }

    /// Glues `client` to a new connection to `destination` through `relay`: the upstream
    /// connection (from the client's address when InputDivertConnectTransparently) and the two
    /// channels' handlers.
    func start(_ client: any Channel, relay: any RelayEndpoint, settings: GateSettings,
               to destination: SocketAddress, source: SocketAddress) throws {
        try client.pipeline.syncOperations.addHandler(RelaySideHandler(side: .client, relay: relay))
        let upstream = try upstreamBootstrap(client, settings: settings, source: source).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RelaySideHandler(side: .server, relay: relay))
            }
        }
        relay.connectUpstream = {
            upstream.connect(to: destination).whenComplete { result in
                switch result {
                case .success(let server): relay.serverConnected(server)
                case .failure(let error): relay.serverConnectFailed(error)
                }
            }
        }
        if client.isActive { relay.clientActive() }
    }
}
