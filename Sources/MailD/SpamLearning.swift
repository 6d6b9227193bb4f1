import AntiSpam
import MIME
import Storage

/// The classes a message is learned as, and what learning changed (from Storage, so that the
/// interfaces and moat-ctl need not import it).
public typealias LearnedClass = Storage.LearnedClass
public typealias LearnOutcome = Storage.LearnOutcome

extension MailCore {
    /// Learns one message as spam or ham for the anti-spam model, or forgets it (`as` nil):
    /// what spamd's TELL, rspamd's learn endpoints and `moat-ctl learn` do.
    public func learn(_ bytes: [UInt8], as learnedClass: LearnedClass?) throws -> LearnOutcome {
        var limits = MIMELimits()
        limits.validateBodies = false
        let message = MIMEMessage(bytes: bytes, limits: limits)
        if let learnedClass { return try spamEngine.learn(message, as: learnedClass) }
        return try spamEngine.forget(message)
    }

    /// Learned messages of each class, and the model's size in features.
    public var learnedCounts: SpamEngine.LearnedCounts { spamEngine.learnedCounts }
}

extension LearnOutcome {
    /// One line for people: spamc, rspamc, moat-ctl and the log print it.
    public var text: String {
        switch self {
        case .learned: "learned"
        case .alreadyLearned: "already learned as that class; nothing changed"
        case .relearned(let from): "learned (moved from \(from.rawValue))"
        case .forgotten(let c): "forgotten (had been learned as \(c.rawValue))"
        case .notLearned: "was not learned; nothing to forget"
        }
    }

    /// The model changed.
    public var changed: Bool {
        switch self {
        case .learned, .relearned, .forgotten: true
        case .alreadyLearned, .notLearned: false
        }
    }
}
