import MoatConfig

/// One signature match, with the category the rule language filters on.
public struct Threat: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The signature name as ClamAV reports it, without the `.UNOFFICIAL` suffix libclamav
    /// appends to names from unsigned databases.
    public var name: String
    public var category: ThreatCategory

    public init(name: String, category: ThreatCategory) {
        self.name = name
        self.category = category
    }

    /// A threat named by ClamAV, categorised by `ThreatClassifier`.
    public init(clamAVName: String) {
        let name = ThreatClassifier.stripUnofficialSuffix(clamAVName)
        self.init(name: name, category: ThreatClassifier.category(of: name))
    }

    public var description: String { "\(name) (\(category))" }
}

/// The verdict for one input.
public enum ScanResult: Sendable, Hashable, Codable {
    case clean
    /// Every match found (libclamav runs in all-match mode), in the order reported, no duplicates.
    case threats([Threat])
    case unchecked(UncheckedReason)

    public var isClean: Bool { self == .clean }

    public var threats: [Threat] {
        if case .threats(let threats) = self { return threats }
        return []
    }
}
