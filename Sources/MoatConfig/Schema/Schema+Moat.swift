extension Schema {
    /// Every section and parameter Moat reads. Names, forms and defaults follow Dr.Web for UNIX
    /// mail servers 11.1 where the product has the parameter; Moat's own additions say so in
    /// their summary.
    public static let moat = Schema([
        rootSection,
        mailDSection,
        linuxFirewallSection,
        clamDSection,
        httpdSection,
    ])

    static let logLevels = ["Debug", "Info", "Notice", "Warning", "Error"]

    /// `LogLevel` and `Log` of a component; both inherit from `[Root]` unless set.
    /// The `Logging` group of the typed settings (`mailD.logging`).
    static func componentLogging(_ component: String) -> [ParameterSpec] {
        let group = ParameterGroup(kind: "Logging", prefix: "", property: "logging")
        return [
            ParameterSpec("LogLevel", .choice(["Default"] + logLevels), default: "Default",
                          "Log level of \(component); Default takes [Root] DefaultLogLevel"),
            ParameterSpec("Log", .logTarget, default: "Auto",
                          "Where \(component) logs: Auto (as [Root] Log), Stderr, Syslog:FACILITY or a file path"),
        ].map { $0.inGroup(group) }
    }
}
