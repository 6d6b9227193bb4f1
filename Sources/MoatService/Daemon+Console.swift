import CertificateStore
import Foundation
import MailD
import MoatConfig

/// What the console asks besides appinfo and reload; each is the same code `moat-ctl` runs
/// for the matching command (cfshow, cfset, repack-password, certificate).
extension Daemon: ConsoleService {
    public func configurationFile() throws(ConfigErrors) -> LoadedConfig {
        try loader.load(path: configPath)
    }

    public func canChangeConfiguration() -> Bool {
        // An atomic replace needs the directory too.
        access(configPath, W_OK) == 0 && access((configPath as NSString).deletingLastPathComponent, W_OK) == 0
    }

    public func change(_ edit: ConfigEdit, parameter: String) async -> SettingChange {
        // moatd runs as [Root] User and the file is root's: the change is moat-ctl's to make.
        guard canChangeConfiguration() else {
            return .refused("moatd runs as an unprivileged user and may not change \(configPath), which only root writes: run `moat-ctl cfset \(parameter) ...` as root (moatd reloads the file then)")
        }
        let result: EditResult
        do throws(ConfigFileChange.Failure) {
            result = try ConfigFileChange.apply(edit, to: parameter, inFileAt: configPath, loader: loader)
        } catch {
            return .refused(error.description)
        }
        guard result.changed else { return .unchanged(result.key) }
        let outcome = await reload()
        return .applied(result.key, reload: outcome, generation: settings.current.generation)
    }

    public func topSpamSymbols() -> [RecentSpamSymbols.Count] {
        core.recentSpamSymbols.top()
    }

    public func recentThreats() -> [ThreatEvent] {
        core.recentThreats.latest()
    }

    public func archivePassword(archiveId: String) throws(ArchivePassword.RecoveryFailure) -> String {
        try ArchivePassword.recover(archiveId: archiveId, values: settings.current.values)
    }

    public func caCertificatePEM() throws -> String {
        try CertificateAuthority.loadOrCreate(CertificateAuthority.Settings(settings.current.values)).pem
    }
}
