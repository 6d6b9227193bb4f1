/// The anti-spam verdict on one message.
public struct SpamResult: Sendable, Hashable {
    /// Sum of the symbols' scores, SpamAssassin-style points (spam at `requiredPoints`).
    public var points: Double
    /// `points` mapped to 0.0-1.0 for the RuleSet's `total_spam_score`:
    /// points / (2 × requiredPoints), clamped; spam from 0.5 up.
    public var totalSpamScore: Double
    public var requiredPoints: Double
    /// Findings, highest score first.
    public var symbols: [SpamSymbol]
    /// Why the statistical model was not used, when it was not (too little learned).
    public var statisticsNote: String?

    public var isSpam: Bool { points >= requiredPoints }
}
