extension Schema {
    static let httpdSection = SectionSpec(
        "HTTPD", "The HTTPS management console",
        componentLogging("HTTPD") + [
            ParameterSpec("AdminListen", .list(.address, splitsCommas: true), default: "127.0.0.1:4443",
                          "Addresses where the HTTPS console listens"),
            ParameterSpec("AdminSslCertificate", .path(allowEmpty: true), default: "",
                          "Certificate of the console; empty uses one Moat makes and signs with its CA"),
            ParameterSpec("AdminSslKey", .path(allowEmpty: true), default: "",
                          "Private key of AdminSslCertificate (mode 0600)"),
            ParameterSpec("AccessLogPath", .path(allowEmpty: true), default: "",
                          "File for the console's access log; empty keeps none"),
            ParameterSpec("MaxConnections", .integer(1...4096), default: "64",
                          "Moat: connections each AdminListen address keeps open at once; one more is answered HTTP 503 and closed (read at start)"),
            ParameterSpec("MetricsToken", .text, default: "",
                          "Moat: a secret (16 characters or more) with which a Prometheus scraper reads /metrics as `Authorization: Bearer <token>`; empty: /metrics needs a console login like every page").secret(),
            ParameterSpec("SessionIdleTimeout", .duration(ConfigDuration.minutes(1)...ConfigDuration.days(1)), default: "30m",
                          "Moat: a console session unused for this long ends and the administrator logs in again"),
        ]
    )
}
