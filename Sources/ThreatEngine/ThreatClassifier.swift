import MoatConfig

/// Maps ClamAV signature names onto `ThreatCategory`.
///
/// ClamAV names follow `[PUA.]Platform.Category.Family-SigID-Revision` (e.g.
/// `Win.Trojan.Agent-1234-0`, `PUA.Win.Adware.Foo-1`), older names are shorter (`Dialer-123`,
/// `Adware.Foo`). The rules below are checked in order; the first that applies wins. The table
/// is repeated in LIMITS.md ("Threat categories") and pinned by ThreatClassifierTests.
public enum ThreatClassifier {
    public static func category(of clamAVName: String) -> ThreatCategory {
        let name = stripUnofficialSuffix(clamAVName)
        let parts = components(of: name)
        let first = parts.first ?? ""

        // Test files first: EICAR and ClamAV's test file must behave like real known viruses so
        // that operators can test their KnownVirus rules with them.
        if name.lowercased().contains("eicar") || parts.contains("test") {
            return .knownVirus
        }
        if first == "heuristics" || first == "heuristic" {
            return .unknownVirus
        }
        if parts.contains("joke") { return .joke }
        if parts.contains(where: { $0.hasPrefix("dialer") }) { return .dialer }
        if parts.contains("adware") { return .adware }
        if parts.contains(where: { hackToolWords.contains($0) }) { return .hackTool }
        if first == "pua" { return .riskware }
        if parts.contains(where: { modificationWords.contains($0) }) { return .virusModification }
        return .knownVirus
    }

    /// libclamav appends `.UNOFFICIAL` to names from databases that are not signed by Cisco
    /// (ours and third-party ones); it says nothing about the threat.
    public static func stripUnofficialSuffix(_ name: String) -> String {
        let suffix = ".UNOFFICIAL"
        guard name.hasSuffix(suffix) else { return name }
        return String(name.dropLast(suffix.count))
    }

    /// Dot-separated parts, lowercased, each without a trailing `-<digits>` id/revision chain,
    /// so `Dialer-123` and `Win.Trojan.Agent-1234-0` compare by their words.
    static func components(of name: String) -> [String] {
        name.split(separator: ".").map { part in
            var word = Substring(part.lowercased())
            while let dash = word.lastIndex(of: "-"),
                  word.index(after: dash) < word.endIndex,
                  word[word.index(after: dash)...].allSatisfy(\.isNumber) {
                word = word[..<dash]
            }
            return String(word)
        }
    }

    /// `Tool` is ClamAV's PUA category for hacking and remote-admin tools (`PUA.Win.Tool.*`).
    static let hackToolWords: Set<String> = ["tool", "hacktool", "hacktools", "exploitkit"]
    /// Generic and variant signatures catch modified members of a family.
    static let modificationWords: Set<String> = ["variant", "mod", "modified", "generic", "gen"]
}
