import MailD
import MoatConfig

/// What the console asks of the running daemon, besides what `moat-ctl` asks over the control
/// socket (`DaemonService`: appinfo, reload). `Daemon` implements it; the console's routes only
/// decode the request, call one of these and render the answer.
public protocol ConsoleService: DaemonService {
    /// The configuration file as `moat-ctl cfshow` reads it.
    func configurationFile() throws(ConfigErrors) -> LoadedConfig
    /// One change of one parameter, the way `moat-ctl cfset` makes it (`ConfigFileChange`),
    /// followed by a reload when the file changed.
    func change(_ edit: ConfigEdit, parameter: String) async -> SettingChange
    /// Whether `change` can write the file: not when moatd runs as `[Root] User` and the file
    /// is root's (then `moat-ctl cfset`, run as root, changes it).
    func canChangeConfiguration() -> Bool
    /// The latest verdicts with threats, newest first.
    func recentThreats() -> [ThreatEvent]
    /// The anti-spam symbols that fired most in the last messages.
    func topSpamSymbols() -> [RecentSpamSymbols.Count]
    /// The password of a repacked message's archive, as `moat-ctl repack-password` gives it.
    func archivePassword(archiveId: String) throws(ArchivePassword.RecoveryFailure) -> String
    /// Moat's CA certificate, as `moat-ctl certificate` prints it.
    func caCertificatePEM() throws -> String
}

/// What became of a change asked for in the console.
public enum SettingChange: Sendable, Equatable {
    /// Nothing was written; the text is what `moat-ctl cfset` prints for the same change.
    case refused(String)
    /// The file already said that; nothing was written and no reload was asked for.
    case unchanged(ParameterKey)
    /// Written; the daemon reloaded (or refused to) and now runs this settings generation.
    case applied(ParameterKey, reload: ReloadOutcome, generation: Int)
}

extension ConsoleService {
    public func topSpamSymbols() -> [RecentSpamSymbols.Count] { [] }
    public func canChangeConfiguration() -> Bool { true }
}
