/// One finding with its score (SpamAssassin-style points: positive is spammy, negative hammy).
public struct SpamSymbol: Sendable, Hashable {
    public var name: String
    public var score: Double
    /// What it means, for the spamd REPORT text and the event log.
    public var description: String

    public init(name: String, score: Double, description: String) {
        self.name = name
        self.score = score
        self.description = description
    }
}
