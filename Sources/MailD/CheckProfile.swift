import MoatConfig
import Policy
import ThreatEngine

/// The settings of the interface a message came through: its scan limits, what to do with
/// what could not be checked, and its rules. The core never asks which protocol called; it
/// only follows the profile.
public struct CheckProfile: Sendable {
    /// The configuration prefix: "Milter", "Spamd", "Rspamd", or the section for the gateway
    /// and the clamd socket.
    public var name: String
    public var limits: ScanLimits
    public var blockUnchecked: Bool
    public var rules: [String]
    /// `rules`, compiled; nil when there are none (everything passes unless BlockUnchecked).
    public var ruleSet: CompiledRuleSet?
    /// The gateway's `Block*` switches: threat categories refused when no rule decided
    /// (nil for the filter interfaces, which have rules only).
    public var blockedCategories: Set<String>?
    /// How REPACK builds the new message (report languages, templates, archive password).
    public var repack = Repacker.Settings()
    /// Larger messages are decoded to files rather than memory (`[MailD] SpoolThreshold`).
    public var spoolThreshold: Int
    /// Anti-spam points from which the spamd interface says spam and the rspamd interface
    /// adds a header (`SpamdSpamThreshold`, `RspamdAddHeaderThreshold`).
    public var spamThreshold = 5.0
    /// Points from which the rspamd interface's action is reject (`RspamdRejectThreshold`).
    public var spamRejectThreshold = 10.0

    public init(name: String, limits: ScanLimits = .default, blockUnchecked: Bool = false, rules: [String] = [],
                spoolThreshold: Int = 16 << 20) {
        self.name = name
        self.limits = limits
        self.blockUnchecked = blockUnchecked
        self.rules = rules
        self.spoolThreshold = spoolThreshold
        self.ruleSet = Self.compile(rules, name: name)
    }

    /// Rules reaching here were validated when the configuration loaded; a set that still
    /// does not compile (a list file removed since) falls back to refusing threats, never
    /// to passing everything.
    static func compile(_ rules: [String], name: String) -> CompiledRuleSet? {
        guard !rules.isEmpty else { return nil }
        let setName = name == "LinuxFirewall" ? "LinuxFirewall.RuleSet" : name == "ClamD" ? "ClamD" : "MailD.\(name)RuleSet"
        let kind: RuleSetKind = name == "LinuxFirewall" ? .firewall : .mail
        if let compiled = try? RuleSet.compile(rules, name: setName, kind: kind) { return compiled }
        return try? RuleSet.compile([#"scan_result in (Threat) : REJECT "The message contains a THREAT""#],
                                    name: setName + " (fallback)", kind: kind)
    }

    /// `[MailD] Milter*`, `Spamd*` or `Rspamd*`.
    public static func mailD(_ family: String, _ values: ConfigValues) -> CheckProfile {
        var profile = CheckProfile(name: family,
                     limits: scanLimits(values, section: "MailD", prefix: family),
                     blockUnchecked: values.value("MailD", "\(family)BlockUnchecked").bool ?? false,
                     rules: values.value("MailD", "\(family)RuleSet").texts,
                     spoolThreshold: spoolThreshold(values))
        profile.repack = Repacker.Settings(values)
        // Only the spamd and rspamd interfaces answer with a score (the others through rules).
        switch family {
        case "Spamd":
            if let points = values.value("MailD", "SpamdSpamThreshold").decimal { profile.spamThreshold = points }
        case "Rspamd":
            if let points = values.value("MailD", "RspamdAddHeaderThreshold").decimal { profile.spamThreshold = points }
            if let points = values.value("MailD", "RspamdRejectThreshold").decimal { profile.spamRejectThreshold = points }
        default:
            break
        }
        return profile
    }

    /// `[LinuxFirewall]`: the gateway's limits and rules.
    public static func linuxFirewall(_ values: ConfigValues) -> CheckProfile {
        var profile = CheckProfile(name: "LinuxFirewall",
                     limits: scanLimits(values, section: "LinuxFirewall", prefix: ""),
                     blockUnchecked: values.value("LinuxFirewall", "BlockUnchecked").bool ?? false,
                     rules: values.value("LinuxFirewall", "RuleSet").texts,
                     spoolThreshold: spoolThreshold(values))
        profile.repack = Repacker.Settings(values)
        profile.blockedCategories = blockedCategories(values)
        return profile
    }

    /// `[ClamD]`: limits only; a clamd client gets the scan result, not a rule's verdict.
    public static func clamD(_ values: ConfigValues) -> CheckProfile {
        CheckProfile(name: "ClamD", limits: scanLimits(values, section: "ClamD", prefix: ""),
                     spoolThreshold: spoolThreshold(values))
    }

    /// `BlockKnownVirus` covers known viruses and their modifications, `BlockSuspicious` what
    /// heuristics find; the others map one to one.
    static func blockedCategories(_ values: ConfigValues) -> Set<String> {
        let switches: [(String, [String])] = [
            ("BlockKnownVirus", ["KnownVirus", "VirusModification"]), ("BlockSuspicious", ["UnknownVirus"]),
            ("BlockAdware", ["Adware"]), ("BlockDialers", ["Dialer"]), ("BlockJokes", ["Joke"]),
            ("BlockRiskware", ["Riskware"]), ("BlockHacktools", ["HackTool"]),
        ]
        return Set(switches.filter { values.value("LinuxFirewall", $0.0).bool == true }.flatMap(\.1))
    }

    static func spoolThreshold(_ values: ConfigValues) -> Int {
        Int(values.value("MailD", "SpoolThreshold").size?.bytes ?? 16 << 20)
    }

    /// The seven limit parameters of one interface, as the engine takes them.
    public static func scanLimits(_ values: ConfigValues, section: String, prefix: String) -> ScanLimits {
        func integer(_ name: String, _ fallback: Int) -> Int { values.value(section, prefix + name).integer ?? fallback }
        let timeout = values.value(section, prefix + "ScanTimeout").duration?.milliseconds ?? 30_000
        return ScanLimits(
            scanTimeout: .milliseconds(timeout),
            heuristicAnalysis: values.value(section, prefix + "HeuristicAnalysis").bool ?? true,
            packerMaxLevel: integer("PackerMaxLevel", 8),
            archiveMaxLevel: integer("ArchiveMaxLevel", 8),
            mailMaxLevel: integer("MailMaxLevel", 8),
            containerMaxLevel: integer("ContainerMaxLevel", 8),
            maxCompressionRatio: integer("MaxCompressionRatio", 500))
    }
}
