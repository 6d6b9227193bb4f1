// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// Every use of the `ScanLimits` parameters, in the schema's order.
    public var scanLimitsGroups: [ScanLimitsSettings] { [mailD.milterScanLimits, mailD.spamdScanLimits, mailD.rspamdScanLimits, linuxFirewall.scanLimits, clamD.scanLimits] }
}

/// The `ScanLimits` parameters of one section under one prefix (`ParameterGroup`).
public struct ScanLimitsSettings: GroupSettings {
    public let place: GroupPlace

    /// `ScanTimeout`, as `[MailD] MilterScanTimeout`: Time limit for checking one message; past it the message is unchecked.
    public var scanTimeout: ConfigDuration { place.values.duration(place.key("ScanTimeout")) }

    /// `HeuristicAnalysis`, as `[MailD] MilterHeuristicAnalysis`: Use the engine's heuristics to find unknown threats.
    public var heuristicAnalysis: Bool { place.values.bool(place.key("HeuristicAnalysis")) }

    /// `PackerMaxLevel`, as `[MailD] MilterPackerMaxLevel`: Deepest nesting of packed executables that is unpacked; deeper is unchecked.
    public var packerMaxLevel: Int { place.values.integer(place.key("PackerMaxLevel")) }

    /// `ArchiveMaxLevel`, as `[MailD] MilterArchiveMaxLevel`: Deepest nesting of archives that is opened; deeper is unchecked.
    public var archiveMaxLevel: Int { place.values.integer(place.key("ArchiveMaxLevel")) }

    /// `MailMaxLevel`, as `[MailD] MilterMailMaxLevel`: Deepest nesting of attached messages (message/rfc822) that is opened; deeper is unchecked.
    public var mailMaxLevel: Int { place.values.integer(place.key("MailMaxLevel")) }

    /// `ContainerMaxLevel`, as `[MailD] MilterContainerMaxLevel`: Deepest nesting of other containers (documents with embedded objects) that is opened.
    public var containerMaxLevel: Int { place.values.integer(place.key("ContainerMaxLevel")) }

    /// `MaxCompressionRatio`, as `[MailD] MilterMaxCompressionRatio`: An archive member expanding more than this many times is a bomb: unchecked.
    public var maxCompressionRatio: Int { place.values.integer(place.key("MaxCompressionRatio")) }
}
