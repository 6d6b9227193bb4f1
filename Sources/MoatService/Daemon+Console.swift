import CertificateStore
import MailD
import MoatConfig

/// What the console asks besides appinfo and reload; each is the same code `moat-ctl` runs
/// for the matching command (cfshow, cfset, repack-password, certificate).
extension Daemon: ConsoleService {
    public func configurationFile() throws(ConfigErrors) -> LoadedConfig {
        try loader.load(path: configPath)
    }

    public func change(_ edit: ConfigEdit, parameter: String) async -> SettingChange {
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
