// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// Every use of the `FilterInterface` parameters, in the schema's order.
    public var filterInterfaceGroups: [FilterInterfaceSettings] { [mailD.milter, mailD.spamd, mailD.rspamd] }
}

/// The `FilterInterface` parameters of one section under one prefix (`ParameterGroup`).
public struct FilterInterfaceSettings: Sendable {
    public let values: ConfigValues
    public let section: String
    public let prefix: String

    /// Only the generated section settings make these, with names from the schema.
    init(values: ConfigValues, section: String, prefix: String) {
        self.values = values
        self.section = section
        self.prefix = prefix
    }

    func key(_ member: String) -> ParameterKey { ParameterKey(section, prefix + member) }

    /// Where the Milter (Postfix smtpd_milters, Sendmail INPUT_MAIL_FILTER) interface listens; empty turns the interface off.
    public var socket: ListenAddress? { values.address(key("Socket")) }

    /// Moat: connections the Milter interface keeps open at once; one more gets a temporary error and is closed (read at start).
    public var maxConnections: Int { values.integer(key("MaxConnections")) }

    /// Yes: a message that could not be checked is refused (temporary failure) instead of passed.
    public var blockUnchecked: Bool { values.bool(key("BlockUnchecked")) }

    /// Rules applied to each message checked through the Milter interface.
    public var ruleSet: [String] { values.texts(key("RuleSet")) }
}
