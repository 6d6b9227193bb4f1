import Foundation

/// The anti-spam verdict on one message.
public struct SpamResult: Sendable, Hashable {
    /// Sum of the symbols' scores, SpamAssassin-style points (spam at `requiredPoints`).
    public var points: Double
    /// `points` mapped to 0.0-1.0 for the RuleSet's `total_spam_score`: a logistic curve
    /// 1 / (1 + e^(-1.5 × (points - requiredPoints))), so 0.5 at the threshold, 0.82 one point
    /// above it (the seed's `total_spam_score gt 0.80` rejects what the statistical model is
    /// sure of), 0.18 one point below, near 0 for ordinary mail.
    public var totalSpamScore: Double
    public var requiredPoints: Double
    /// Findings, highest score first.
    public var symbols: [SpamSymbol]
    /// Why the statistical model was not used, when it was not (too little learned).
    public var statisticsNote: String?
    /// The host names of the message's links, each once, in order of appearance: what URI
    /// blocklists are asked about.
    public var urlHosts: [String] = []

    public var isSpam: Bool { points >= requiredPoints }

    /// The logistic curve of `totalSpamScore`, for whoever adds symbols after the engine.
    public static func totalSpamScore(points: Double, requiredPoints: Double) -> Double {
        1 / (1 + exp(-1.5 * (points - requiredPoints)))
    }
}
