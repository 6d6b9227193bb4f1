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
        let mailD = values.mailD
        let (settings, limits) = switch family {
        case "Milter": (mailD.milter, mailD.milterScanLimits)
        case "Spamd": (mailD.spamd, mailD.spamdScanLimits)
        case "Rspamd": (mailD.rspamd, mailD.rspamdScanLimits)
        default: preconditionFailure("[MailD] has no filter interface \(family)")
        }
        var profile = CheckProfile(name: family,
                     limits: scanLimits(limits),
                     blockUnchecked: settings.blockUnchecked,
                     rules: settings.ruleSet,
                     spoolThreshold: spoolThreshold(values))
        profile.repack = Repacker.Settings(values)
        // Only the spamd and rspamd interfaces answer with a score (the others through rules).
        switch family {
        case "Spamd":
            profile.spamThreshold = values.mailD.spamdSpamThreshold
        case "Rspamd":
            profile.spamThreshold = values.mailD.rspamdAddHeaderThreshold
            profile.spamRejectThreshold = values.mailD.rspamdRejectThreshold
        default:
            break
        }
        return profile
    }

    /// `[LinuxFirewall]`: the gateway's limits and rules.
    public static func linuxFirewall(_ values: ConfigValues) -> CheckProfile {
        var profile = CheckProfile(name: "LinuxFirewall",
                     limits: scanLimits(values.linuxFirewall.scanLimits),
                     blockUnchecked: values.linuxFirewall.blockUnchecked,
                     rules: values.linuxFirewall.ruleSet,
                     spoolThreshold: spoolThreshold(values))
        profile.repack = Repacker.Settings(values)
        profile.blockedCategories = blockedCategories(values)
        return profile
    }

    /// `[ClamD]`: limits only; a clamd client gets the scan result, not a rule's verdict.
    public static func clamD(_ values: ConfigValues) -> CheckProfile {
        CheckProfile(name: "ClamD", limits: scanLimits(values.clamD.scanLimits),
                     spoolThreshold: spoolThreshold(values))
    }

    /// `BlockKnownVirus` covers known viruses and their modifications, `BlockSuspicious` what
    /// heuristics find; the others map one to one.
    static func blockedCategories(_ values: ConfigValues) -> Set<String> {
        let firewall = values.linuxFirewall
        let switches: [(Bool, [String])] = [
            (firewall.blockKnownVirus, ["KnownVirus", "VirusModification"]), (firewall.blockSuspicious, ["UnknownVirus"]),
            (firewall.blockAdware, ["Adware"]), (firewall.blockDialers, ["Dialer"]), (firewall.blockJokes, ["Joke"]),
            (firewall.blockRiskware, ["Riskware"]), (firewall.blockHacktools, ["HackTool"]),
        ]
        return Set(switches.filter(\.0).flatMap(\.1))
    }

    static func spoolThreshold(_ values: ConfigValues) -> Int {
        Int(values.mailD.spoolThreshold.bytes)
    }

    /// The seven limit parameters of one interface, as the engine takes them.
    public static func scanLimits(_ settings: ScanLimitsSettings) -> ScanLimits {
        ScanLimits(
            scanTimeout: .milliseconds(settings.scanTimeout.milliseconds),
            heuristicAnalysis: settings.heuristicAnalysis,
            packerMaxLevel: settings.packerMaxLevel,
            archiveMaxLevel: settings.archiveMaxLevel,
            mailMaxLevel: settings.mailMaxLevel,
            containerMaxLevel: settings.containerMaxLevel,
            maxCompressionRatio: settings.maxCompressionRatio)
    }
}
