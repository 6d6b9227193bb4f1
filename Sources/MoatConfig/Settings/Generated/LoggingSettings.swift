// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// Every use of the `Logging` parameters, in the schema's order.
    public var loggingGroups: [LoggingSettings] { [mailD.logging, linuxFirewall.logging, clamD.logging, httpd.logging] }
}

/// The `Logging` parameters of one section under one prefix (`ParameterGroup`).
public struct LoggingSettings: GroupSettings {
    public let place: GroupPlace

    /// `LogLevel`, as `[MailD] LogLevel`: Log level of MailD; Default takes [Root] DefaultLogLevel.
    public var logLevel: LogLevel { place.values.choice(place.key("LogLevel")) }

    /// `Log`, as `[MailD] Log`: Where MailD logs: Auto (as [Root] Log), Stderr, Syslog:FACILITY or a file path.
    public var log: LogTarget { place.values.logTarget(place.key("Log")) }

    /// The words `LogLevel` takes, as the file spells them.
    public enum LogLevel: String, Sendable, CaseIterable {
        case `default` = "Default"
        case debug = "Debug"
        case info = "Info"
        case notice = "Notice"
        case warning = "Warning"
        case error = "Error"
    }
}
