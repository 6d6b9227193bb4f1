// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// Every use of the `ScanLimits` parameters, in the schema's order.
    public var scanLimitsGroups: [ScanLimitsSettings] { [mailD.milterScanLimits, mailD.spamdScanLimits, mailD.rspamdScanLimits, linuxFirewall.scanLimits, clamD.scanLimits] }
}

/// The `ScanLimits` parameters of one section under one prefix (`ParameterGroup`).
public struct ScanLimitsSettings: Sendable {
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

    /// Time limit for checking one message; past it the message is unchecked.
    public var scanTimeout: ConfigDuration { values.duration(key("ScanTimeout")) }

    /// Use the engine's heuristics to find unknown threats.
    public var heuristicAnalysis: Bool { values.bool(key("HeuristicAnalysis")) }

    /// Deepest nesting of packed executables that is unpacked; deeper is unchecked.
    public var packerMaxLevel: Int { values.integer(key("PackerMaxLevel")) }

    /// Deepest nesting of archives that is opened; deeper is unchecked.
    public var archiveMaxLevel: Int { values.integer(key("ArchiveMaxLevel")) }

    /// Deepest nesting of attached messages (message/rfc822) that is opened; deeper is unchecked.
    public var mailMaxLevel: Int { values.integer(key("MailMaxLevel")) }

    /// Deepest nesting of other containers (documents with embedded objects) that is opened.
    public var containerMaxLevel: Int { values.integer(key("ContainerMaxLevel")) }

    /// An archive member expanding more than this many times is a bomb: unchecked.
    public var maxCompressionRatio: Int { values.integer(key("MaxCompressionRatio")) }
}
