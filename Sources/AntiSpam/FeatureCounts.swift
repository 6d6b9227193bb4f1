/// Learned counts of one feature, kept small: the in-memory model holds millions of them.
struct FeatureCounts: Sendable, Hashable {
    var spam: UInt32
    var ham: UInt32
}
