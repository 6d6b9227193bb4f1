// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// Every use of the `Logging` parameters, in the schema's order.
    public var loggingGroups: [LoggingSettings] { [mailD.logging, linuxFirewall.logging, clamD.logging, httpd.logging] }
}

/// The `Logging` parameters of one section under one prefix (`ParameterGroup`).
public struct LoggingSettings: Sendable {
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

    /// Log level of MailD; Default takes [Root] DefaultLogLevel.
    public var logLevel: LogLevel { values.choice(key("LogLevel")) }

    /// Where MailD logs: Auto (as [Root] Log), Stderr, Syslog:FACILITY or a file path.
    public var log: LogTarget { values.logTarget(key("Log")) }

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
