import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import MoatConfig
import MoatService
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// The HTTPS console (`[HTTPD]`): one TLS listener per `AdminListen` address, all serving the
/// same routes, sessions and login throttle. An address that cannot be bound is logged and
/// reported (`ConsoleStatus`) but does not stop moatd: mail keeps flowing without a console.
public struct ConsoleServer: Service {
    public struct Configuration: Sendable {
        public var addresses: [ListenAddress]
        public var certificate: ConsoleCertificate
        public var credentials: ConsoleCredentials
        /// `SessionIdleTimeout` and `AccessLogPath` are read from here at each request.
        public var settings: SettingsStore
        var loginPolicy = LoginThrottle.Policy()
        /// The registry moatd's metrics go to, served on /metrics; nil: no /metrics.
        public var metrics: PrometheusCollectorRegistry?

        public init(addresses: [ListenAddress], certificate: ConsoleCertificate, credentials: ConsoleCredentials,
                    settings: SettingsStore, metrics: PrometheusCollectorRegistry? = nil) {
            self.metrics = metrics
            self.addresses = addresses
            self.certificate = certificate
            self.credentials = credentials
            self.settings = settings
        }
    }

    public let configuration: Configuration
    public let status: ConsoleStatus
    let service: any ConsoleService
    let logger: Logger

    public init(configuration: Configuration, service: any ConsoleService, status: ConsoleStatus = ConsoleStatus(),
                logger: Logger = Logger(label: "HTTPD")) {
        self.configuration = configuration
        self.service = service
        self.status = status
        self.logger = logger
    }

    public func run() async throws {
        let tls: TLSConfiguration
        do {
            tls = try configuration.certificate.tlsConfiguration()
        } catch {
            status.failed("the console's certificate or key is not usable: \(error)")
            logger.error("console not started: its certificate or key is not usable", metadata: ["error": "\(error)"])
            return
        }
        let settings = configuration.settings
        let routes = ConsoleRoutes(
            service: service, sessions: ConsoleSessions(), throttle: LoginThrottle(policy: configuration.loginPolicy),
            credentials: configuration.credentials,
            idleTimeout: { Self.idleTimeout(settings.current.values) },
            accessLog: AccessLog(path: { settings.current.values.httpd.accessLogPath }),
            logger: logger, metrics: configuration.metrics,
            metricsToken: { settings.current.values.httpd.metricsToken })
        let responder = routes.router().buildResponder()
        let logger = logger
        let status = status
        let maxConnections = Self.maxConnections(settings.current.values)
        await withDiscardingTaskGroup { group in
            for address in configuration.addresses {
                group.addTask {
                    await Self.serve(on: address, responder: responder, tls: tls, maxConnections: maxConnections,
                                     status: status, logger: logger)
                }
            }
        }
    }

    /// `[HTTPD] MaxConnections`, per address, read at start.
    static func maxConnections(_ values: ConfigValues) -> Int {
        max(1, values.httpd.maxConnections)
    }

    private static func serve(on address: ListenAddress, responder: RouterResponder<ConsoleContext>, tls: TLSConfiguration,
                              maxConnections: Int, status: ConsoleStatus, logger: Logger) async {
        let bind: BindAddress
        switch address {
        case .tcp(let host, let port): bind = .hostname(host, port: port)
        case .unix(let path):
            Self.prepareSocketPath(path)
            bind = .unixDomainSocket(path: path)
        }
        let bound = BoundAddress()
        let cap = ConnectionCap(limit: maxConnections, logger: logger)
        do {
            let app = Application(
                responder: responder,
                // A connection silent for a minute (a stalled handshake too) is closed; at most
                // MaxConnections (64) at once per address are served: enough for administrators,
                // bounded for anyone else. The next 32 are answered 503 and closed; past those,
                // new connections wait in the listen queue.
                server: try .tls(.http1(configuration: .init(additionalChannelHandlers: [ConnectionCapHandler(cap: cap)],
                                                             idleTimeout: .seconds(60))), tlsConfiguration: tls),
                configuration: .init(address: bind, serverName: nil,
                                     availableConnectionsDelegate: MaximumAvailableConnections(maxConnections + 32)),
                onServerRunning: { channel in
                    let shown = Self.describe(channel.localAddress, fallback: address)
                    if case .unix(let path) = address { chmod(path, 0o600) }
                    bound.set(shown)
                    status.listening(on: shown)
                    logger.notice("console listening", metadata: ["url": "\(Self.url(shown, address))"])
                },
                logger: logger)
            try await app.run()
        } catch {
            status.failed("\(address): \(error)")
            logger.error("console cannot listen on \(address); moatd runs without it there", metadata: ["error": "\(error)"])
        }
        if let shown = bound.value { status.stopped(listeningOn: shown) }
        if case .unix(let path) = address { unlink(path) }
    }

    static func idleTimeout(_ values: ConfigValues) -> TimeInterval {
        values.httpd.sessionIdleTimeout.seconds
    }

    /// `127.0.0.1:4443`, `[::1]:4443`, or the socket path: the port really bound (0 asks for any).
    static func describe(_ local: SocketAddress?, fallback: ListenAddress) -> String {
        switch local {
        case .v4(let a)?: "\(a.host):\(local?.port ?? 0)"
        case .v6(let a)?: "[\(a.host)]:\(local?.port ?? 0)"
        default: fallback.description
        }
    }

    static func url(_ shown: String, _ address: ListenAddress) -> String {
        if case .unix = address { return "https over \(shown)" }
        return "https://\(shown)/"
    }

    /// A stale socket file from an earlier run is removed; its directory is made (0700).
    static func prepareSocketPath(_ path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
        }
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
    }
}

/// The address one listener got, once it has it.
private final class BoundAddress: Sendable {
    private let state = Mutex<String?>(nil)
    func set(_ value: String) { state.withLock { $0 = value } }
    var value: String? { state.withLock { $0 } }
}
