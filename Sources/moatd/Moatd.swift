import AntiSpam
import Storage
import ArgumentParser
import Control
import Foundation
import Logging
import MailD
import MoatConfig
import Policy
import ThreatEngine
import NIOPosix
import ServiceLifecycle

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

        let core: MailCore
        do {
            core = try MailCoreSetup.make(initial.values, logger: logger)
        } catch {
            logger.critical("cannot start the threat engine: \(error)")
            throw ExitCode(1)
        }
        let daemon = Daemon(configPath: path, loader: loader, initial: initial, logRouting: routing, logger: logger,
                            core: core)
        let pidFile = (initial.values.value("Root", "PidFile").text).flatMap { $0.isEmpty ? nil : PidFile(path: $0) }
        try pidFile?.write()
        defer { pidFile?.remove() }

        DescriptorLimit.raise(initial.values, logger: logger)
        // Before anything listens: spool files a crash left are whole messages nobody acknowledged.
        SpoolCleanup.run(initial.values, logger: logger)

        let context = InterfaceContext(settings: daemon.settings, core: core, group: MultiThreadedEventLoopGroup.singleton)
        let listeners = InterfaceServices.listeners(context)
        let firewall = GatewayServices.firewallService(context)
        let gateway: [any Service] = [firewall, GatewayServices.gate(context)].compactMap { $0 }
        if let firewall { daemon.setDivertStatus { firewall.status().summary } }
        daemon.setRunning(listeners.map { ($0.name, $0.address.description) })
        // The console is management, not mail: if it cannot listen, moatd goes on without it.
        let console: [ServiceGroupConfiguration.ServiceConfiguration] = ConsoleServices.console(context, daemon: daemon).map {
            [.init(service: $0, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)]
        } ?? []
        let control = ControlServer(path: daemon.controlSocketPath, service: daemon,
                                    group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "Control"))
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: control, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: SignalReload(daemon: daemon)),
            ] + console + gateway.map {
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
        do {
            try await group.run()
        } catch {
            logger.critical("moatd stopped on an error: \(error)")
            throw ExitCode(1)
        }
        logger.notice("moatd stopped")
    }
}

enum MailCoreSetup {
    /// Loads the signatures (seconds with the full freshclam database) before any service
    /// accepts work, and says loudly when only Moat's test database is there.
    /// `[Root] TempDir`, made private to moatd; nil (libclamav's default) when it cannot be.
    static func scratchDirectory(_ values: ConfigValues, logger: Logger) -> String? {
        guard let path = values.value("Root", "TempDir").text, !path.isEmpty else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            var info = stat()
            // Someone else's directory (made before moatd ran) must not receive scanned content.
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == geteuid() else {
                logger.warning("TempDir \(path) is not a directory of moatd's own: using libclamav's default")
                return nil
            }
            chmod(path, 0o700)
            return path
        } catch {
            logger.warning("cannot create TempDir \(path): \(error); using libclamav's default")
            return nil
        }
    }

    static func make(_ values: ConfigValues, logger: Logger) throws -> MailCore {
        let directory = values.value("Root", "SignatureDir").text
        // Engine-wide limits (libclamav's own scan time, file sizes) can only be tightened per
        // scan, so the engine gets the most generous of all interfaces.
        let profiles = ["Milter", "Spamd", "Rspamd", "LinuxFirewall", "ClamD"].map { ProfileChoice.profile(named: $0, values: values) }
        var engineLimits = ScanLimits.default
        engineLimits.scanTimeout = profiles.map(\.limits.scanTimeout).max() ?? engineLimits.scanTimeout
        let scanner = try ThreatScanner(signatureDirectory: directory, limits: engineLimits,
                                        temporaryDirectory: scratchDirectory(values, logger: logger))
        ClamMessages.setHandler { severity, text in
            logger.info("libclamav: \(text)", metadata: ["severity": "\(severity)"])
        }
        let info = scanner.signatureInfo
        logger.notice("threat engine ready", metadata: [
            "engine": "libclamav \(info.engineVersion)", "signatures": "\(info.signatureCount)", "directory": "\(info.directory)",
        ])
        for warning in info.warnings { logger.warning("\(warning)") }
        if info.usingBuiltinSignatures {
            logger.error("no ClamAV signature databases in \(directory ?? "/var/lib/clamav"): only Moat's small test database is loaded; run freshclam")
        }
        let varDir = values.value("Root", "VarDir").text ?? "/var/lib/moat"
        return MailCore(scanner: scanner, spoolDirectory: varDir + "/spool",
                        spamEngine: spamEngine(values, varDir: varDir, logger: logger))
    }

    /// The anti-spam engine with its learned model in `VarDir/antispam/model.sqlite`. A model
    /// that cannot be opened is logged and replaced by an empty one in memory: mail keeps
    /// flowing, scored by the rules, and nothing learned is lost on disk.
    static func spamEngine(_ values: ConfigValues, varDir: String, logger: Logger) -> SpamEngine {
        var settings = AntiSpamSettings()
        if let minimum = values.value("MailD", "SpamModelMinLearned").integer { settings.minLearnedPerClass = minimum }
        let path = varDir + "/antispam/model.sqlite"
        do {
            let engine = try SpamEngine(settings: settings, store: LearnedModelStore(path: path))
            let counts = engine.learnedCounts
            logger.notice("anti-spam model ready", metadata: [
                "path": "\(path)", "spam": "\(counts.spam)", "ham": "\(counts.ham)", "features": "\(counts.features)",
            ])
            return engine
        } catch {
            logger.error("cannot open the anti-spam model \(path): \(error); learning is kept in memory until restart")
            return SpamEngine(inMemory: settings)
        }
    }
}
