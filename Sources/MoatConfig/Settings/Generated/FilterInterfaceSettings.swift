// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// Every use of the `FilterInterface` parameters, in the schema's order.
    public var filterInterfaceGroups: [FilterInterfaceSettings] { [mailD.milter, mailD.spamd, mailD.rspamd] }
}

/// The `FilterInterface` parameters of one section under one prefix (`ParameterGroup`).
public struct FilterInterfaceSettings: GroupSettings {
    public let place: GroupPlace

    /// `Socket`, as `[MailD] MilterSocket`: Where the Milter (Postfix smtpd_milters, Sendmail INPUT_MAIL_FILTER) interface listens; empty turns the interface off.
    public var socket: ListenAddress? { place.values.address(place.key("Socket")) }

    /// `MaxConnections`, as `[MailD] MilterMaxConnections`: Moat: connections the Milter interface keeps open at once; one more gets a temporary error and is closed (read at start).
    public var maxConnections: Int { place.values.integer(place.key("MaxConnections")) }

    /// `BlockUnchecked`, as `[MailD] MilterBlockUnchecked`: Yes: a message that could not be checked is refused (temporary failure) instead of passed.
    public var blockUnchecked: Bool { place.values.bool(place.key("BlockUnchecked")) }

    /// `RuleSet`, as `[MailD] MilterRuleSet`: Rules applied to each message checked through the Milter interface.
    public var ruleSet: [String] { place.values.texts(place.key("RuleSet")) }
}
