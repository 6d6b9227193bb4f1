/// How many learned spam and ham messages held one hashed feature.
///
/// The feature is a 64-bit hash stored as a signed integer, the widest integer column
/// both SQLite and PostgreSQL (`bigint`) hold.
public struct FeatureCount: Sendable, Hashable {
    public var feature: Int64
    public var spam: Int64
    public var ham: Int64

    public init(feature: Int64, spam: Int64, ham: Int64) {
        self.feature = feature
        self.spam = spam
        self.ham = ham
    }
}
