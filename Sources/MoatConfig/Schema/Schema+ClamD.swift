extension Schema {
    static let clamDSection = SectionSpec(
        "ClamD", "The clamd-compatible scanner socket (clamdscan, clamav-milter and other clamd clients)",
        componentLogging("ClamD") + [
            ParameterSpec("ClamdSocket", .address, default: "",
                          "Where the clamd interface listens (Dr.Web: Endpoint.<tag>.ClamdSocket); empty turns it off"),
            ParameterSpec("MaxConnections", .integer(1...65_536), default: "256",
                          "Moat: connections kept open at once; one more is answered `Too many connections, try again later. ERROR` and closed (read at start)"),
            ParameterSpec("ReadTimeout", .duration(.seconds(1)...ConfigDuration.minutes(60)), default: "5s",
                          "How long a client may stay silent before the connection is closed"),
            ParameterSpec("StreamMaxLength", .size(ByteSize(bytes: 1)...ByteSize.megabytes(4096)), default: "25mb",
                          "Largest INSTREAM a client may send; more is refused with `INSTREAM size limit exceeded`"),
            ParameterSpec("ScanDirectories", .list(.path(allowEmpty: false), splitsCommas: true), default: "",
                          "Moat: directories under which SCAN/CONTSCAN/MULTISCAN of a path are allowed; empty allows none"),
        ]
        + ScanLimitsSpec.parameters(prefix: "", scanTimeout: "30s")
    )
}
