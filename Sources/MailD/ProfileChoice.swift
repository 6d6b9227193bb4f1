import MoatConfig

/// Names an administrator gives on the command line for a profile.
public enum ProfileChoice {
    public static func profile(named name: String, values: ConfigValues) -> CheckProfile {
        switch name.lowercased() {
        case "spamd": .mailD("Spamd", values)
        case "rspamd": .mailD("Rspamd", values)
        case "linuxfirewall": .linuxFirewall(values)
        case "clamd": .clamD(values)
        default: .mailD("Milter", values)
        }
    }
}
