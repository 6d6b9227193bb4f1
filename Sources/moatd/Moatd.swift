import ArgumentParser
import Control
import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import MoatService
import NIOCore
import NIOPosix
import Prometheus
import Policy
import ServiceLifecycle
import Telemetry

@main
struct Moatd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moatd",
        abstract: "Moat mail-security gateway daemon.",
        discussion: "Stops cleanly on SIGTERM or SIGINT, rereads its configuration on SIGHUP or `moat-ctl reload`.")

    @Option(name: .shortAndLong, help: "Configuration file (default: $MOAT_CONFIG or /etc/moat/moat.ini).")
    var config: String?

    @Flag(name: .long, help: "Check the configuration file and exit: 0 valid, 78 invalid.")
    var check = false

    func run() async throws {
        let given = config ?? ProcessInfo.processInfo.environment["MOAT_CONFIG"] ?? "/etc/moat/moat.ini"
        // Reloads must find the same file whatever the working directory is by then.
        let path = URL(fileURLWithPath: given).standardizedFileURL.path
        let loader = ConfigLoader(ruleValidator: Policy.ruleValidator)
        let initial: LoadedConfig
        do {
            initial = try loader.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("moatd: \(error.description)\n".utf8))
            throw ExitCode(78) // EX_CONFIG
        }
        if check {
            for warning in initial.warnings { print("warning: \(warning)") }
            print("\(path): valid")
            return
        }

        // Files and sockets moatd creates are private unless it widens them on purpose.
        umask(0o077)
        let routing = LogRouting()
        routing.apply(initial.values)
        LoggingSystem.bootstrap { label in MoatLogHandler(label: label, routing: routing) }
        let logger = Logger(label: "moatd")
        let runUser = try Self.prepareRunUser(initial.values, configPath: path, logger: logger)
        routing.openFiles(initial.values)

        // nil: `Database = Off`, no quarantine, message log or statistics.
        let storage: GatewayStorage?
        do {
            storage = try GatewayStorage.make(initial.values, logger: Logger(label: "Storage"))
        } catch {
            logger.critical("cannot open the database ([Root] Database): \(error)")
            throw ExitCode(1)
        }
        if storage == nil, case let holding = GatewayStorage.quarantineRuleSets(initial.values), !holding.isEmpty {
            logger.warning("Database = Off: no quarantine, so messages the QUARANTINE rules of \(holding.map { $0.description }.joined(separator: ", ")) hold are answered tempfail")
        }
        // Counted in memory, served by the console's /metrics.
        let metricsRegistry = PrometheusCollectorRegistry()
        // One resolver for sender authentication, blocklists and DANE; stopped at exit.
        let resolver = SenderAuthSetup.resolver(initial.values, logger: logger)
        defer { resolver?.shutdown() }
        let core: MailCore
        do {
            core = try EngineSetup.daemonCore(initial.values, logger: logger,
                                              metrics: MoatMetrics(factory: PrometheusMetricsFactory(registry: metricsRegistry)),
                                              senderChecks: SenderAuthSetup.checks(initial.values, lookup: resolver, logger: logger),
                                              recorder: storage?.records)
        } catch {
            logger.critical("cannot start the threat engine: \(error)")
            throw ExitCode(1)
        }
        let daemon = Daemon(configPath: path, loader: loader, initial: initial, logRouting: routing, logger: logger,
                            core: core)
        if let storage { daemon.setStorage(storage) }
        let pidFile = PidFile(initial.values)
        try pidFile?.write()
        defer { pidFile?.remove() }

        DescriptorLimit.raise(initial.values, logger: logger)
        // Before anything listens: spool files a crash left are whole messages nobody acknowledged.
        SpoolCleanup.run(initial.values, others: [GatewayServices.gateSpool(initial.values)], logger: logger)

        // Mail connections (the filter interfaces and the Gate) have event loops of their own,
        // on which small messages are checked without a hand-off to another thread
        // (`CheckPlacement`); the console, the database client and the control socket stay on
        // the singleton's loops, where no check ever delays them.
        let mailLoops = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        CheckPlacement.reserveForMail(mailLoops)
        let context = InterfaceContext(settings: daemon.settings, core: core, group: mailLoops, dns: resolver)
        let listeners = InterfaceServices.listeners(context)
        let firewall = GatewayServices.firewall(context)
        let gateway: [any Service] = [firewall, GatewayServices.gate(context, firewall: firewall)].compactMap { $0 }
        if let firewall { daemon.setDivertStatus { firewall.status().summary } }
        daemon.setRunning(listeners.map { ($0.name, $0.address.description) })
        // The console is management, not mail: if it cannot listen, moatd goes on without it.
        let console: [ServiceGroupConfiguration.ServiceConfiguration] = ConsoleServices.console(context, daemon: daemon, metrics: metricsRegistry).map {
            [.init(service: $0, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)]
        } ?? []
        let control = ControlServer(path: daemon.controlSocketPath, service: daemon,
                                    group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "Control"),
                                    allowedPeers: Self.controlPeers(initial.values))
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: control, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: SignalReload(daemon: daemon)),
                .init(service: SignatureSelfCheck(daemon: daemon)),
            ] + (storage.map {
                // The writer and the retention job; mail never waits for them.
                [ServiceGroupConfiguration.ServiceConfiguration(service: $0)]
            } ?? []) + console + gateway.map {
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup)
            } + listeners.map {
                // An interface that cannot listen stops moatd: an MTA configured to use it
                // must see a clear failure, not a daemon that silently filters nothing.
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup)
            },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.notice("moatd \(Daemon.version) starting", metadata: ["config": "\(path)", "pid": "\(getpid())"])
        for warning in initial.warnings { logger.warning("\(warning)") }
        // Everything that needs root is open (the engine, the CA, the console's files, the
        // spool cleaned): from here on moatd is [Root] User; the services bind after this.
        try Self.switchUser(runUser, values: initial.values, logger: logger)
        do {
            try await group.run()
        } catch {
            logger.critical("moatd stopped on an error: \(error)")
            throw ExitCode(1)
        }
        CheckPlacement.release(mailLoops)
        try? await mailLoops.shutdownGracefully()
        logger.notice("moatd stopped")
    }
}
