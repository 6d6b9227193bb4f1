// Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
// MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

extension ConfigValues {
    /// `[HTTPD]`: The HTTPS management console.
    public var httpd: HTTPDSettings { HTTPDSettings(values: self) }
}

/// `[HTTPD]`: The HTTPS management console.
public struct HTTPDSettings: Sendable {
    /// Every parameter's key, for code that names one (restart-only lists, reports).
    public enum Key {
        public static let logLevel = ParameterKey("HTTPD", "LogLevel")
        public static let log = ParameterKey("HTTPD", "Log")
        public static let adminListen = ParameterKey("HTTPD", "AdminListen")
        public static let adminSslCertificate = ParameterKey("HTTPD", "AdminSslCertificate")
        public static let adminSslKey = ParameterKey("HTTPD", "AdminSslKey")
        public static let accessLogPath = ParameterKey("HTTPD", "AccessLogPath")
        public static let maxConnections = ParameterKey("HTTPD", "MaxConnections")
        public static let metricsToken = ParameterKey("HTTPD", "MetricsToken")
        public static let sessionIdleTimeout = ParameterKey("HTTPD", "SessionIdleTimeout")
    }

    public let values: ConfigValues

    /// Logging parameters.
    public var logging: LoggingSettings {
        LoggingSettings(place: GroupPlace(values, section: "HTTPD", prefix: ""))
    }

    /// `AdminListen`: Addresses where the HTTPS console listens (default `127.0.0.1:4443`).
    public var adminListen: [ListenAddress] { values.addresses(Key.adminListen) }

    /// `AdminSslCertificate`: Certificate of the console; empty uses one Moat makes and signs with its CA (default empty).
    public var adminSslCertificate: String { values.text(Key.adminSslCertificate) }

    /// `AdminSslKey`: Private key of AdminSslCertificate (mode 0600) (default empty).
    public var adminSslKey: String { values.text(Key.adminSslKey) }

    /// `AccessLogPath`: File for the console's access log; empty keeps none (default empty).
    public var accessLogPath: String { values.text(Key.accessLogPath) }

    /// `MaxConnections`: Moat: connections each AdminListen address keeps open at once; one more is answered HTTP 503 and closed (read at start) (default `64`).
    public var maxConnections: Int { values.integer(Key.maxConnections) }

    /// `MetricsToken`: Moat: a secret (16 characters or more) with which a Prometheus scraper reads /metrics as `Authorization: Bearer <token>`; empty: /metrics needs a console login like every page (default empty).
    public var metricsToken: String { values.text(Key.metricsToken) }

    /// `SessionIdleTimeout`: Moat: a console session unused for this long ends and the administrator logs in again (default `30m`).
    public var sessionIdleTimeout: ConfigDuration { values.duration(Key.sessionIdleTimeout) }
}
