import Control
import Foundation
import Logging
import MailD
import MoatConfig
import Synchronization
import ThreatEngine
import WebConsole

/// The running daemon as the control socket and the console see it: the settings in force,
/// reload, and what each component is doing (`Daemon+Console.swift`: what only the console asks).
final class Daemon: DaemonService {
    static let version = MoatVersion.current

    let configPath: String
    let loader: ConfigLoader
    let settings: SettingsStore
    let logRouting: LogRouting
    let logger: Logger
    let core: MailCore
    let startedAt = Date()
    private let lastReload = Mutex<Date?>(nil)
    private let running = Mutex<[String: String]>([:])
    private let divertStatus = Mutex<(@Sendable () -> String)?>(nil)
    private let consoleStatus = Mutex<ConsoleStatus?>(nil)

    /// How `appinfo` learns where the console listens (nil: AdminListen is empty).
    func setConsoleStatus(_ status: ConsoleStatus) {
        consoleStatus.withLock { $0 = status }
    }

    /// How `appinfo` learns the firewall's divert state (nil: InputDivert was Off at start).
    func setDivertStatus(_ status: @escaping @Sendable () -> String) {
        divertStatus.withLock { $0 = status }
    }

    /// Interfaces that listen, by component name ("MailD.Milter"), with their address.
    func setRunning(_ interfaces: [(String, String)]) {
        running.withLock { $0 = Dictionary(interfaces, uniquingKeysWith: { a, _ in a }) }
    }
    /// Reloads are serialised: two at once would race on which file wins.
    private let reloadLock = Mutex(())

    init(configPath: String, loader: ConfigLoader, initial: LoadedConfig, logRouting: LogRouting, logger: Logger,
         core: MailCore) {
        self.core = core
        self.configPath = configPath
        self.loader = loader
        self.settings = SettingsStore(initial)
        self.logRouting = logRouting
        self.logger = logger
    }

    func reload() async -> ReloadOutcome {
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
        let scanner = core.scanner
        let logger = logger
        Task {
            do {
                try await scanner.reload()
                let info = scanner.signatureInfo
                logger.notice("signatures reloaded", metadata: ["signatures": "\(info.signatureCount)", "directory": "\(info.directory)"])
                for warning in info.warnings { logger.warning("\(warning)") }
            } catch {
                logger.error("signature reload failed; the previous engine stays in use: \(error)")
            }
        }
    }

    /// Settings bound once at start (a listening socket cannot move under its clients).
    static let appliedAtRestart: Set<ParameterKey> = [
        ParameterKey("Root", "ControlSocket"), ParameterKey("Root", "PidFile"), ParameterKey("Root", "VarDir"),
        ParameterKey("Root", "SignatureDir"), ParameterKey("MailD", "MilterSocket"), ParameterKey("MailD", "SpamdSocket"),
        ParameterKey("MailD", "RspamdSocket"), ParameterKey("ClamD", "ClamdSocket"),
        ParameterKey("HTTPD", "AdminListen"), ParameterKey("HTTPD", "AdminSslCertificate"), ParameterKey("HTTPD", "AdminSslKey"),
    ]

    func scan(paths: [String], profile: String?) async -> [NamedReport] {
        let values = settings.current.values
        let checkProfile = ProfileChoice.profile(named: profile ?? "Milter", values: values)
        var reports: [NamedReport] = []
        for path in paths {
            do {
                for item in try MessageFiles.items(at: path) {
                    let report = await core.check(envelope: Envelope(source: .commandLine), message: item.source,
                                                  profile: checkProfile)
                    reports.append(NamedReport(name: item.name, report: report))
                }
            } catch {
                reports.append(NamedReport(name: path, report: nil, error: "\(error)"))
            }
        }
        return reports
    }

    func learn(paths: [String], as learnedClass: LearnedClass?) async -> LearnReport? {
        core.learn(paths: paths, as: learnedClass)
    }

    func appInfo() async -> AppInfo {
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
                                                 running: running.withLock { $0 },
                                                 divert: divertStatus.withLock { $0 }?(),
                                                 console: consoleStatus.withLock { $0 }?.snapshot),
            learned: core.learnedCountsInfo)
    }

    var controlSocketPath: String { Self.controlSocket(of: settings.current.values) }

    static func controlSocket(of values: ConfigValues) -> String {
        values.value("Root", "ControlSocket").text ?? "/run/moat/moat-ctl.sock"
    }
}

enum MoatVersion {
    static let current = "0.1.0"
}
