/// The scan limits every interface carries, with a prefix per interface (`MilterScanTimeout`,
/// `SpamdScanTimeout`, ...) in [MailD] and without one in [LinuxFirewall] and [ClamD].
enum ScanLimitsSpec {
    static func parameters(prefix: String, scanTimeout: String) -> [ParameterSpec] {
        let levels = ParameterType.integer(0...64)
        let group = ParameterGroup(kind: "ScanLimits", prefix: prefix,
                                   property: prefix.isEmpty ? "scanLimits" : prefix.lowercased() + "ScanLimits")
        return [
            ParameterSpec("\(prefix)ScanTimeout", .duration(.seconds(1)...ConfigDuration.minutes(60)),
                          default: scanTimeout, "Time limit for checking one message; past it the message is unchecked"),
            ParameterSpec("\(prefix)HeuristicAnalysis", .bool(.onOff), default: "On",
                          "Use the engine's heuristics to find unknown threats"),
            ParameterSpec("\(prefix)PackerMaxLevel", levels, default: "8",
                          "Deepest nesting of packed executables that is unpacked; deeper is unchecked"),
            ParameterSpec("\(prefix)ArchiveMaxLevel", levels, default: "8",
                          "Deepest nesting of archives that is opened; deeper is unchecked"),
            ParameterSpec("\(prefix)MailMaxLevel", levels, default: "8",
                          "Deepest nesting of attached messages (message/rfc822) that is opened; deeper is unchecked"),
            ParameterSpec("\(prefix)ContainerMaxLevel", levels, default: "8",
                          "Deepest nesting of other containers (documents with embedded objects) that is opened"),
            ParameterSpec("\(prefix)MaxCompressionRatio", .integer(2...100_000), default: "500",
                          "An archive member expanding more than this many times is a bomb: unchecked"),
        ].map { $0.inGroup(group) }
    }
}
