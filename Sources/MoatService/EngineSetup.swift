import AntiSpam
import Foundation
import Logging
import MailD
import MoatConfig
import Storage
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

    /// Loads the signatures (seconds with the full freshclam database). `temporaryDirectory`:
    /// libclamav's scratch space, nil for its default ($TMPDIR or /tmp).
    public static func scanner(_ values: ConfigValues, serving profiles: [CheckProfile],
                               temporaryDirectory: String?) throws -> ThreatScanner {
        try ThreatScanner(signatureDirectory: values.root.signatureDir, limits: engineLimits(serving: profiles),
                          temporaryDirectory: temporaryDirectory)
    }

    /// Every profile moatd serves: the three filter interfaces, the gateway and the clamd socket.
    public static let daemonProfiles = ["Milter", "Spamd", "Rspamd", "LinuxFirewall", "ClamD"]

    /// moatd's core: loaded before any service accepts work, saying loudly when only Moat's
    /// test database is there; libclamav's own messages go to the log.
    public static func daemonCore(_ values: ConfigValues, logger: Logger) throws -> MailCore {
        let profiles = daemonProfiles.map { ProfileChoice.profile(named: $0, values: values) }
        let scanner = try scanner(values, serving: profiles,
                                  temporaryDirectory: ScratchDirectory.prepare(values, logger: logger))
        ClamMessages.setHandler { severity, text in
            logger.info("libclamav: \(text)", metadata: ["severity": "\(severity)"])
        }
        let info = scanner.signatureInfo
        logger.notice("threat engine ready", metadata: [
            "engine": "libclamav \(info.engineVersion)", "signatures": "\(info.signatureCount)", "directory": "\(info.directory)",
        ])
        for warning in info.warnings { logger.warning("\(warning)") }
        if info.usingBuiltinSignatures {
            logger.error("no ClamAV signature databases in \(values.root.signatureDir): only Moat's small test database is loaded; run freshclam")
        }
        return MailCore(scanner: scanner, spoolDirectory: StateDirectories(values).coreSpool,
                        spamEngine: spamEngine(values, logger: logger))
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
