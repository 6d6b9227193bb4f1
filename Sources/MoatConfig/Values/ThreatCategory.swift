/// The threat categories of the rule language, shared by the engine that assigns them and the
/// rules that test them (`threat_category in (KnownVirus, ...)`).
/// The raw values are the spellings the rules use.
public enum ThreatCategory: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// A signature of a known malware family (and the industry test files).
    case knownVirus = "KnownVirus"
    /// A generic or variant signature: a modification of a known family.
    case virusModification = "VirusModification"
    /// Found by heuristics, not by a signature of a known threat.
    case unknownVirus = "UnknownVirus"
    case adware = "Adware"
    case dialer = "Dialer"
    case joke = "Joke"
    /// Potentially unwanted software that is none of the more specific kinds.
    case riskware = "Riskware"
    case hackTool = "HackTool"

    public var description: String { rawValue }
}
