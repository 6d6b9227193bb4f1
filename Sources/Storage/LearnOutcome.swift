/// What recording (or forgetting) one message changed in the learned model.
public enum LearnOutcome: Sendable, Hashable {
    /// The message was new and was counted in its class.
    case learned
    /// The message had been learned as the same class before; nothing changed.
    case alreadyLearned
    /// The message had been learned as the other class; it moved to the new one.
    case relearned(from: LearnedClass)
    /// The message was removed from the class it had been learned as.
    case forgotten(LearnedClass)
    /// `forget` of a message that had never been learned.
    case notLearned
}
