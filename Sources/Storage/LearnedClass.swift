/// The two classes a message can be learned as.
public enum LearnedClass: String, Sendable, Hashable, CaseIterable {
    case spam
    case ham
}
