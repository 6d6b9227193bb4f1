import AntiSpam

/// The anti-spam engine's verdict on a message, as the report, the rules, the event log and
/// the interfaces use it.
public struct SpamReport: Sendable, Codable, Hashable {
    public struct Symbol: Sendable, Codable, Hashable {
        public var name: String
        public var score: Double
        public var description: String
    }

    /// SpamAssassin-style points (the interfaces compare them with their thresholds).
    public var points: Double
    /// 0.0-1.0, the RuleSet's `total_spam_score`.
    public var totalSpamScore: Double
    /// Findings, highest score first.
    public var symbols: [Symbol]
    /// Why the statistical model was not used, when it was not.
    public var statisticsNote: String?

    public init(points: Double, totalSpamScore: Double, symbols: [Symbol], statisticsNote: String? = nil) {
        self.points = points
        self.totalSpamScore = totalSpamScore
        self.symbols = symbols
        self.statisticsNote = statisticsNote
    }

    init(_ result: SpamResult) {
        self.init(points: result.points, totalSpamScore: result.totalSpamScore,
                  symbols: result.symbols.map { Symbol(name: $0.name, score: $0.score, description: $0.description) },
                  statisticsNote: result.statisticsNote)
    }
}
