import AntiSpam
import Foundation
import Logging
import MailD
import MoatConfig
import ScanSandbox
import Storage
import Telemetry
import ThreatEngine

/// The threat engine and the core, made the same way for moatd and for `moat-ctl scan
/// --local`: signatures from `[Root] SignatureDir`, engine-wide limits that every profile the
/// process serves can tighten. What differs is said in the arguments (scratch and spool
/// directories, which profiles) and in who reports how (moatd logs, moat-ctl prints).
public enum EngineSetup {
    /// Engine-wide limits (libclamav's own scan time, file sizes) can only be tightened per
    /// scan, so the engine gets the most generous of the profiles it serves.
    public static func engineLimits(serving profiles: [CheckProfile]) -> ScanLimits {
        var limits = ScanLimits.default
        limits.scanTimeout = profiles.map(\.limits.scanTimeout).max() ?? limits.scanTimeout
        return limits
    }

    /// Starts the sandboxed scan workers (`moat-scan`) and waits until they have loaded the
    /// signatures (seconds with the full freshclam database). libclamav never runs in the
    /// calling process. `temporaryDirectory`: where the workers' scratch directory is made
    /// (nil: the system's temporary directory).
    public static func scanner(_ values: ConfigValues, serving profiles: [CheckProfile],
                               temporaryDirectory: String?, logger: Logger) throws -> SandboxedScanner {
        let executable = ScanWorkerExecutable.locate()
        // One directory per process: two daemons sharing a TempDir (tests, a second instance)
        // must not empty each other's. What a previous process left is removed here.
        let base = temporaryDirectory ?? NSTemporaryDirectory()
        ScanScratch.removeStale(in: base)
        let scratch = ScanScratch.path(in: base, for: getpid())
        var configuration = SandboxConfiguration(
            signatureDirectory: values.root.signatureDir, limits: engineLimits(serving: profiles),
            scratchDirectory: scratch, user: values.root.scanUser, maskedPaths: maskedPaths(values),
            memoryHeadroom: UInt64(values.root.scanWorkerMemory.bytes))
        #if DEBUG
        // Tests only (debug builds): make every scan slow to catch workers mid-scan.
        if let delay = ProcessInfo.processInfo.environment["MOAT_TEST_SCAN_DELAY_MS"].flatMap({ UInt32($0) }) {
            configuration.testScanDelayMilliseconds = delay
        }
        #endif
        let workers = values.root.scanWorkers
        let scanner = try SandboxedScanner(configuration: configuration, supervisor: supervisor(values, executable: executable),
                                           workerCount: workers > 0 ? workers : nil, logger: logger)
        for measure in scanner.measures { logger.info("scan sandbox: \(measure)") }
        for warning in scanner.sandboxWarnings { logger.warning("scan sandbox: \(warning)") }
        return scanner
    }

    /// moat-scan.service's socket, where the Debian package's unit makes it.
    static let serviceSocket = "/run/moat-scan/scan.sock"

    /// `[Root] ScanService`: connect to moat-scan.service, or start moat-scan as a child.
    static func supervisor(_ values: ConfigValues, executable: String?) throws -> SandboxedScanner.Supervisor {
        let setting = values.root.scanService
        switch setting.lowercased() {
        case "auto" where FileManager.default.fileExists(atPath: serviceSocket):
            return .service(socket: serviceSocket)
        case "auto", "spawn":
            guard let executable else {
                throw EngineSetupError(description: "the scan worker executable moat-scan is missing "
                    + "(looked beside this program and in /usr/lib/moat; MOAT_SCAN_WORKER names another)")
            }
            return .spawn(executable: executable)
        default:
            return .service(socket: setting)
        }
    }

    /// What the workers must not see even where file permissions would let them: moatd's
    /// state (CA key, console secrets, spools, the learned model), its configuration, its
    /// control socket and PID file.
    static func maskedPaths(_ values: ConfigValues) -> [String] {
        let parents = [values.root.controlSocket, values.root.pidFile].map { ($0 as NSString).deletingLastPathComponent }
        return Array(Set([values.root.varDir, "/etc/moat"] + parents).filter { !$0.isEmpty && $0 != "/" && $0 != "/run" && $0 != "/tmp" }).sorted()
    }

    /// Every profile moatd serves: the three filter interfaces, the gateway and the clamd socket.
    public static let daemonProfiles = ["Milter", "Spamd", "Rspamd", "LinuxFirewall", "ClamD"]

    /// moatd's core: loaded before any service accepts work, saying loudly when only Moat's
    /// test database is there; libclamav's own messages go to the log.
    public static func daemonCore(_ values: ConfigValues, logger: Logger, metrics: MoatMetrics = .disabled,
                                  senderChecks: SenderChecks? = nil) throws -> MailCore {
        let profiles = daemonProfiles.map { ProfileChoice.profile(named: $0, values: values) }
        let scanner = try scanner(values, serving: profiles,
                                  temporaryDirectory: ScratchDirectory.prepare(values, logger: logger), logger: logger)
        let info = scanner.signatureInfo
        logger.notice("threat engine ready", metadata: [
            "engine": "libclamav \(info.engineVersion)", "signatures": "\(info.signatureCount)", "directory": "\(info.directory)",
        ])
        for warning in info.warnings { logger.warning("\(warning)") }
        if info.usingBuiltinSignatures {
            logger.error("no ClamAV signature databases in \(values.root.signatureDir): only Moat's small test database is loaded; run freshclam")
        }
        return MailCore(scanner: scanner, spoolDirectory: StateDirectories(values).coreSpool,
                        spamEngine: spamEngine(values, logger: logger), senderChecks: senderChecks, metrics: metrics)
    }

    /// The anti-spam engine with its learned model in `VarDir/antispam/model.sqlite`. A model
    /// that cannot be opened is logged and replaced by an empty one in memory: mail keeps
    /// flowing, scored by the rules, and nothing learned is lost on disk.
    public static func spamEngine(_ values: ConfigValues, logger: Logger) -> SpamEngine {
        var settings = AntiSpamSettings()
        settings.minLearnedPerClass = values.mailD.spamModelMinLearned
        let path = values.root.varDir + "/antispam/model.sqlite"
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

public struct EngineSetupError: Error, CustomStringConvertible {
    public var description: String
}

/// The scan workers' scratch directories: `moat-scan-<pid>` in TempDir, one per moatd or
/// moat-ctl process.
enum ScanScratch {
    static let prefix = "moat-scan-"

    static func path(in base: String, for pid: pid_t) -> String {
        (base.hasSuffix("/") ? base : base + "/") + prefix + "\(pid)"
    }

    /// Removes the directories of processes that no longer run (a crash, a kill -9).
    static func removeStale(in base: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: path(in: base, for: pid))
            }
        }
    }
}
