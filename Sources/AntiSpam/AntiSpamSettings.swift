/// The engine's settings as plain values (MoatConfig's typed settings fill them in).
public struct AntiSpamSettings: Sendable, Hashable {
    /// Points from which a message is spam (SpamAssassin's `required_score`).
    public var requiredPoints: Double
    /// The statistical model is used only when at least this many spam and this many ham
    /// messages were learned (SpamAssassin's bayes_min_spam_num/bayes_min_ham_num).
    public var minLearnedPerClass: Int
    /// Points the statistical model adds at probability 1.0 (spam) and at 0.0 (ham).
    public var statisticalSpamPoints: Double
    public var statisticalHamPoints: Double
    public var limits: AntiSpamLimits
    /// Words paired into sparse bigrams: each word with the next `bigramWindow - 1` (1: words
    /// only). Chosen by the k-fold benchmark (Benchmarks/AntiSpam).
    public var bigramWindow: Int
    /// Features the chi-square combination uses per message (the most decided ones).
    public var maxInterestingFeatures: Int

    public init(requiredPoints: Double = 5.0, minLearnedPerClass: Int = 200, statisticalSpamPoints: Double = 6.0,
                statisticalHamPoints: Double = -3.0, limits: AntiSpamLimits = AntiSpamLimits(),
                bigramWindow: Int = 3, maxInterestingFeatures: Int = 150) {
        self.bigramWindow = max(1, min(bigramWindow, 8))
        self.maxInterestingFeatures = max(1, maxInterestingFeatures)
        self.requiredPoints = requiredPoints
        self.minLearnedPerClass = minLearnedPerClass
        self.statisticalSpamPoints = statisticalSpamPoints
        self.statisticalHamPoints = statisticalHamPoints
        self.limits = limits
    }
}
