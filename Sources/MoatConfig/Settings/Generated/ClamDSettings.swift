// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// `[ClamD]`: The clamd-compatible scanner socket (clamdscan, clamav-milter and other clamd clients).
    public var clamD: ClamDSettings { ClamDSettings(values: self) }
}

/// `[ClamD]`: The clamd-compatible scanner socket (clamdscan, clamav-milter and other clamd clients).
public struct ClamDSettings: Sendable {
    /// Every parameter's key, for code that names one (restart-only lists, reports).
    public enum Key {
        public static let logLevel = ParameterKey("ClamD", "LogLevel")
        public static let log = ParameterKey("ClamD", "Log")
        public static let clamdSocket = ParameterKey("ClamD", "ClamdSocket")
        public static let maxConnections = ParameterKey("ClamD", "MaxConnections")
        public static let readTimeout = ParameterKey("ClamD", "ReadTimeout")
        public static let streamMaxLength = ParameterKey("ClamD", "StreamMaxLength")
        public static let scanDirectories = ParameterKey("ClamD", "ScanDirectories")
        public static let scanTimeout = ParameterKey("ClamD", "ScanTimeout")
        public static let heuristicAnalysis = ParameterKey("ClamD", "HeuristicAnalysis")
        public static let packerMaxLevel = ParameterKey("ClamD", "PackerMaxLevel")
        public static let archiveMaxLevel = ParameterKey("ClamD", "ArchiveMaxLevel")
        public static let mailMaxLevel = ParameterKey("ClamD", "MailMaxLevel")
        public static let containerMaxLevel = ParameterKey("ClamD", "ContainerMaxLevel")
        public static let maxCompressionRatio = ParameterKey("ClamD", "MaxCompressionRatio")
    }

    public let values: ConfigValues

    /// Logging parameters.
    public var logging: LoggingSettings {
        LoggingSettings(place: GroupPlace(values, section: "ClamD", prefix: ""))
    }

    /// `ClamdSocket`: Where the clamd interface listens (Dr.Web: Endpoint.<tag>.ClamdSocket); empty turns it off (default empty).
    public var clamdSocket: ListenAddress? { values.address(Key.clamdSocket) }

    /// `MaxConnections`: Moat: connections kept open at once; one more is answered `Too many connections, try again later. ERROR` and closed (read at start) (default `256`).
    public var maxConnections: Int { values.integer(Key.maxConnections) }

    /// `ReadTimeout`: How long a client may stay silent before the connection is closed (default `5s`).
    public var readTimeout: ConfigDuration { values.duration(Key.readTimeout) }

    /// `StreamMaxLength`: Largest INSTREAM a client may send; more is refused with `INSTREAM size limit exceeded` (default `25mb`).
    public var streamMaxLength: ByteSize { values.size(Key.streamMaxLength) }

    /// `ScanDirectories`: Moat: directories under which SCAN/CONTSCAN/MULTISCAN of a path are allowed; empty allows none (default empty).
    public var scanDirectories: [String] { values.texts(Key.scanDirectories) }

    /// ScanLimits parameters.
    public var scanLimits: ScanLimitsSettings {
        ScanLimitsSettings(place: GroupPlace(values, section: "ClamD", prefix: ""))
    }
}
