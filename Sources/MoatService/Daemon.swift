import Foundation
import Logging
import MailD
import MoatConfig
import ScanSandbox
import Synchronization

/// The running daemon as the control socket and the console see it: the settings in force,
/// reload, scan, and what each component is doing (`Daemon+Console.swift`: what only the
/// console asks). moatd makes one at start and hands it to both front-ends.
public final class Daemon: DaemonService {
    public static let version = MoatVersion.current

    public let configPath: String
    let loader: ConfigLoader
    public let settings: SettingsStore
    let logRouting: LogRouting
    public let logger: Logger
    public let core: MailCore
    let startedAt = Date()
    private let lastReload = Mutex<Date?>(nil)
    private let running = Mutex<[String: String]>([:])
    private let divertStatus = Mutex<(@Sendable () -> String)?>(nil)
    private let consoleStatus = Mutex<ConsoleStatus?>(nil)
    let storageSlot = Mutex<GatewayStorage?>(nil)

    /// How `appinfo` learns where the console listens (nil: AdminListen is empty).
    public func setConsoleStatus(_ status: ConsoleStatus) {
        consoleStatus.withLock { $0 = status }
    }

    /// How `appinfo` learns the firewall's divert state (nil: InputDivert was Off at start).
    public func setDivertStatus(_ status: @escaping @Sendable () -> String) {
        divertStatus.withLock { $0 = status }
    }

    /// Interfaces that listen, by component name ("MailD.Milter"), with their address.
    public func setRunning(_ interfaces: [(String, String)]) {
        running.withLock { $0 = Dictionary(interfaces, uniquingKeysWith: { a, _ in a }) }
    }
    /// Reloads are serialised: two at once would race on which file wins.
    private let reloadLock = Mutex(())

    public init(configPath: String, loader: ConfigLoader, initial: LoadedConfig, logRouting: LogRouting, logger: Logger,
                core: MailCore) {
        self.core = core
        self.configPath = configPath
        self.loader = loader
        self.settings = SettingsStore(initial)
        self.logRouting = logRouting
        self.logger = logger
    }

    public func reload() async -> ReloadOutcome {
        reloadLock.withLock { _ in
            let loaded: LoadedConfig
            do throws(ConfigErrors) {
                loaded = try loader.load(path: configPath)
            } catch {
                logger.error("reload refused: \(configPath) is invalid; the previous settings stay in force",
                             metadata: ["errors": "\(error.description)"])
                return .refused(reason: error.description)
            }
            for warning in loaded.warnings { logger.warning("\(warning)") }
            let changed = settings.replace(with: loaded)
            logRouting.apply(loaded.values)
            storage?.update(loaded.values)
            lastReload.withLock { $0 = Date() }
            let restartOnly = changed.filter { Self.appliedAtRestart.contains($0) }
            logger.notice("configuration reloaded", metadata: [
                "changed": "\(changed.map(\.description).joined(separator: ", "))",
                "generation": "\(settings.current.generation)",
            ])
            if !restartOnly.isEmpty {
                logger.warning("these settings apply only when moatd restarts: \(restartOnly.map(\.description).joined(separator: ", "))")
            }
            reloadSignatures()
            return .reloaded(changed: changed.map(\.description))
        }
    }

    /// A reload also rereads the signatures (freshclam may have updated them). The engine
    /// swaps atomically: scans in flight finish on the old one.
    private func reloadSignatures() {
        Task { await reloadSignaturesNow() }
    }

    /// Loads the signatures again and logs the outcome; `SignatureSelfCheck` calls it when
    /// freshclam changed them.
    func reloadSignaturesNow() async {
        let scanner = core.scanner
        do {
            try await scanner.reload()
            let info = scanner.signatureInfo
            logger.notice("signatures reloaded", metadata: [
                "signatures": "\(info.signatureCount)", "directory": "\(info.directory)", "generation": "\(info.generation)",
            ])
            for warning in info.warnings { logger.warning("\(warning)") }
        } catch {
            logger.error("signature reload failed; the previous engine stays in use: \(error)")
        }
    }

    /// Settings bound once at start (a listening socket cannot move under its clients).
    static let appliedAtRestart: Set<ParameterKey> = [
        RootSettings.Key.controlSocket, RootSettings.Key.user, RootSettings.Key.pidFile, RootSettings.Key.varDir,
        RootSettings.Key.signatureDir, MailDSettings.Key.milterSocket, MailDSettings.Key.spamdSocket,
        MailDSettings.Key.rspamdSocket, ClamDSettings.Key.clamdSocket,
        HTTPDSettings.Key.adminListen, HTTPDSettings.Key.adminSslCertificate, HTTPDSettings.Key.adminSslKey,
    ]

    /// The daemon's engine, with the profile's limits and rules (`moat-ctl scan` reaching a
    /// running moatd; without one it runs the same `MessageScan` in its own process).
    public func scan(paths: [String], profile: String?, spam: Bool) async -> [NamedReport] {
        let checkProfile = ProfileChoice.profile(named: profile ?? "Milter", values: settings.current.values)
        return await MessageScan(core: core, profile: checkProfile, scoresSpam: spam).reports(for: paths)
    }

    public func learn(paths: [String], as learnedClass: LearnedClass?) async -> LearnReport? {
        core.learn(paths: paths, as: learnedClass)
    }

    public func appInfo() async -> AppInfo {
        let snapshot = settings.current
        return AppInfo(
            version: Self.version,
            pid: getpid(),
            configFile: configPath,
            startedAt: startedAt.timeIntervalSince1970,
            lastReloadAt: lastReload.withLock { $0 }?.timeIntervalSince1970,
            settingsGeneration: snapshot.generation,
            components: ComponentReport.describe(snapshot.values, controlSocket: controlSocketPath,
                                                 signatures: core.scanner.signatureInfo,
                                                 sandbox: sandboxSummary,
                                                 running: running.withLock { $0 },
                                                 divert: divertStatus.withLock { $0 }?(),
                                                 console: consoleStatus.withLock { $0 }?.snapshot),
            learned: core.learnedCountsInfo)
    }

    /// How the engine is confined, for appinfo.
    var sandboxSummary: String? {
        guard let sandboxed = core.scanner as? SandboxedScanner else { return nil }
        let user = sandboxed.measures.first { $0.hasPrefix("user ") } ?? "moatd's own user"
        var summary = "scanning in \(sandboxed.maxConcurrentScans) sandboxed worker processes (\(user), supervisor pid \(sandboxed.supervisorPID))"
        if !sandboxed.sandboxWarnings.isEmpty { summary += "; WEAKER SANDBOX: " + sandboxed.sandboxWarnings.joined(separator: "; ") }
        return summary
    }

    public var controlSocketPath: String { settings.current.values.root.controlSocket }
}
