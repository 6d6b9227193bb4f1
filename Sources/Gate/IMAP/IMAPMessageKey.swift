// How the IMAP relay names a message (across sessions and within one) and what it knows of it.

/// Identifies a message across sessions: a verdict stays valid for the same UID in a mailbox
/// as long as UIDVALIDITY does not change.
public struct IMAPMessageKey: Hashable, Sendable {
    public var mailbox: String
    public var uidValidity: UInt32
    public var uid: UInt32

    public init(mailbox: String, uidValidity: UInt32, uid: UInt32) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
    }
}

/// What the session knows about the message a FETCH response is about.
public struct IMAPMessageRef: Sendable, Equatable {
    public var sequence: UInt32?
    public var uid: UInt32?
    /// Mailbox named in the last SELECT/EXAMINE (INBOX upper-cased), nil if none or sent as literal.
    public var mailbox: String?
    public var uidValidity: UInt32?

    public init(sequence: UInt32? = nil, uid: UInt32? = nil, mailbox: String? = nil, uidValidity: UInt32? = nil) {
        self.sequence = sequence
        self.uid = uid
        self.mailbox = mailbox
        self.uidValidity = uidValidity
    }

    public var key: IMAPMessageKey? {
        guard let mailbox, let uidValidity, let uid else { return nil }
        return IMAPMessageKey(mailbox: mailbox, uidValidity: uidValidity, uid: uid)
    }
}

/// What the session knows of a whole message, for its partial fetches.
public enum IMAPKnownVerdict: Sendable, Equatable {
    /// Checked and passed.
    case clean
    /// Checked and replaced (or declared bad by the core).
    case bad
    /// Could not be checked (larger than `maxLiteralSize`).
    case unchecked
}
