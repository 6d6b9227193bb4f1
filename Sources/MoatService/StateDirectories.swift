import MoatConfig

/// Where moatd keeps its state under `[Root] VarDir`, so the parts that write a directory
/// and the ones that read or clean it (the start-up spool cleanup, `moat-ctl
/// console-password`) agree. The Gate's spool is `GateSettings.spoolDirectory`, the CA's
/// directory `CertificateAuthority.Settings`.
public struct StateDirectories: Sendable {
    let varDir: String

    public init(_ values: ConfigValues) {
        varDir = values.root.varDir
    }

    /// MailCore's decoded parts and the Milter interface's messages.
    public var coreSpool: String { varDir + "/spool" }

    /// A filter interface's private spool (`spamd`, `rspamd`, `clamd`): messages too large to
    /// hold in memory while they are checked.
    public func filterSpool(_ name: String) -> String { varDir + "/spool/\(name)" }

    /// The console's password files and its certificate when Moat's CA issues it.
    public var console: String { varDir + "/console" }
}
