import MoatConfig
import Testing
@testable import ThreatEngine

@Suite struct ThreatClassifierTests {
    static let table: [(String, ThreatCategory)] = [
        ("Moat.Test.EICAR", .knownVirus),
        ("Moat.Test.EICAR.UNOFFICIAL", .knownVirus),
        ("Win.Test.EICAR_HDB-1", .knownVirus),
        ("Eicar-Signature", .knownVirus),
        ("Clamav.Test.File-6", .knownVirus),
        ("Win.Trojan.Agent-1234567-0", .knownVirus),
        ("Doc.Dropper.Emotet-6950453-0", .knownVirus),
        ("Win.Worm.Mydoom-1", .knownVirus),
        ("Win.Trojan.Agent.Variant-12", .virusModification),
        ("Win.Trojan.Zbot.Mod-3", .virusModification),
        ("Win.Malware.Generic-9876543-0", .virusModification),
        ("Heuristics.Phishing.Email.SpoofedDomain", .unknownVirus),
        ("Heuristics.Broken.Executable", .unknownVirus),
        ("Heuristics.OLE2.ContainsMacros", .unknownVirus),
        ("PUA.Win.Adware.Agent-123", .adware),
        ("Win.Adware.OpenCandy-1", .adware),
        ("Adware.Gator-3", .adware),
        ("PUA.Win.Tool.Nirsoft-1", .hackTool),
        ("Win.Tool.Mimikatz-6466236-0", .hackTool),
        ("Win.Hacktool.Agent-1", .hackTool),
        ("Win.Dialer.Agent-12", .dialer),
        ("Dialer-123", .dialer),
        ("Win.Dialer-1234", .dialer),
        ("Win.Joke.Agent-1", .joke),
        ("Joke.Win32.Foo", .joke),
        ("PUA.Win.Packer.Upx-2", .riskware),
        ("PUA.Doc.Packed.EncryptedDoc-6563700-0", .riskware),
        ("PUA.Pdf.Trojan.EmbeddedJavaScript-1", .riskware),
    ]

    @Test(arguments: table)
    func classifies(name: String, expected: ThreatCategory) {
        #expect(ThreatClassifier.category(of: name) == expected)
    }

    @Test func threatNamesLoseTheUnofficialSuffix() {
        let threat = Threat(clamAVName: "Moat.Test.EICAR.UNOFFICIAL")
        #expect(threat.name == "Moat.Test.EICAR")
        #expect(threat.category == .knownVirus)
    }

    @Test func categoriesUseTheRuleLanguageSpelling() {
        #expect(ThreatCategory.allCases.map(\.rawValue) == [
            "KnownVirus", "VirusModification", "UnknownVirus", "Adware", "Dialer", "Joke", "Riskware", "HackTool",
        ])
    }

    @Test func limitHeuristicsAreUncheckedNotThreats() {
        #expect(Verdict.uncheckedReason(forHeuristic: "Heuristics.Limits.Exceeded.MaxRecursion") == .limitExceeded("MaxRecursion"))
        #expect(Verdict.uncheckedReason(forHeuristic: "Heuristics.Limits.Exceeded.MaxFileSize") == .limitExceeded("MaxFileSize"))
        #expect(Verdict.uncheckedReason(forHeuristic: "Heuristics.Limits.Exceeded.MaxScanTime") == .timeout)
        #expect(Verdict.uncheckedReason(forHeuristic: "Heuristics.Encrypted.Zip") == .encrypted)
        #expect(Verdict.uncheckedReason(forHeuristic: "Heuristics.Encrypted.PDF") == .encrypted)
        #expect(Verdict.uncheckedReason(forHeuristic: "Heuristics.Phishing.Email") == nil)
    }
}
