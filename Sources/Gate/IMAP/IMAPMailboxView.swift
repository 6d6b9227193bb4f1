/// What the relay knows of the selected mailbox: its name and UIDVALIDITY (for verdict keys),
/// the number of messages (for sequence `*`) and the sequence-number-to-UID map learnt from
/// FETCH responses and kept through EXPUNGE (for partial fetches by sequence number).
///
/// `selection` counts selections: it stands in for the mailbox name in cache keys when the name
/// is unknown (sent as a literal), so a verdict never outlives the selection it was learnt in.
struct IMAPMailboxView: Sendable {
    /// Entries of the sequence map past which it starts over (a huge mailbox fetched by FLAGS).
    static let sequenceMapLimit = 10_000

    /// Named in the last SELECT/EXAMINE (INBOX upper-cased); nil if none or sent as a literal.
    private(set) var mailbox: String?
    private(set) var uidValidity: UInt32?
    /// A SELECT/EXAMINE succeeded and no CLOSE/UNSELECT followed.
    private(set) var isOpen = false
    private(set) var selection = 0
    /// The last EXISTS, kept through EXPUNGE.
    private(set) var messageCount: UInt32?
    private var sequenceUIDs: [UInt32: UInt32] = [:]

    /// A SELECT/EXAMINE takes effect: whatever its outcome, the mailbox before is closed.
    mutating func beginSelection(of mailbox: String?) {
        self.mailbox = mailbox
        forgetMessages()
        selection += 1
    }

    /// The tagged reply to the SELECT/EXAMINE.
    mutating func selectionEnded(ok: Bool) {
        if ok {
            isOpen = true
        } else {
            mailbox = nil
            forgetMessages()
        }
    }

    /// A CLOSE/UNSELECT succeeded.
    mutating func unselected() {
        mailbox = nil
        forgetMessages()
        selection += 1
    }

    /// `[UIDVALIDITY n]` in an untagged OK: of the mailbox being selected.
    mutating func noteUIDValidity(_ value: UInt32) {
        uidValidity = value
    }

    /// A FETCH response named both numbers.
    mutating func learn(sequence: UInt32, uid: UInt32) {
        if sequenceUIDs.count >= Self.sequenceMapLimit { sequenceUIDs.removeAll() }
        sequenceUIDs[sequence] = uid
    }

    mutating func exists(_ count: UInt32) {
        messageCount = count
    }

    /// `* n EXPUNGE`: the messages after it move down by one.
    mutating func expunge(_ sequence: UInt32) {
        var shifted: [UInt32: UInt32] = [:]
        for (number, uid) in sequenceUIDs where number != sequence {
            shifted[number > sequence ? number - 1 : number] = uid
        }
        sequenceUIDs = shifted
        if let count = messageCount, count > 0 { messageCount = count - 1 }
    }

    /// `* VANISHED` names UIDs, not positions: every sequence number may have moved.
    mutating func vanished() {
        sequenceUIDs.removeAll()
        messageCount = nil
    }

    func uid(sequence: UInt32) -> UInt32? { sequenceUIDs[sequence] }

    /// The verdict key of a message: the real key when the mailbox and UIDVALIDITY are known,
    /// else one that is valid for the current selection only.
    func key(uid: UInt32) -> IMAPMessageKey {
        IMAPMessageKey(mailbox: mailbox ?? "\u{0}selection \(selection)", uidValidity: uidValidity ?? 0, uid: uid)
    }

    /// What is known of a message; the UID from the response, else from the sequence map.
    func ref(sequence: UInt32?, uid: UInt32?) -> IMAPMessageRef {
        IMAPMessageRef(sequence: sequence, uid: uid ?? sequence.flatMap { sequenceUIDs[$0] },
                       mailbox: mailbox, uidValidity: uidValidity)
    }

    /// The numbers of an explicit set (sequence `*` is the last EXISTS), nil when it cannot be
    /// expanded or holds more than `limit` numbers.
    func expand(_ set: String, uid: Bool, limit: Int) -> [UInt32]? {
        var numbers = Set<UInt32>()
        for part in set.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: ":", omittingEmptySubsequences: false)
            guard ends.count == 1 || ends.count == 2 else { return nil }
            var values: [UInt32] = []
            for end in ends {
                if end == "*" {
                    guard !uid, let count = messageCount, count > 0 else { return nil }
                    values.append(count)
                } else {
                    guard let value = UInt32(end), value > 0 else { return nil }
                    values.append(value)
                }
            }
            guard let low = values.min(), let high = values.max(), Int(high - low) < limit else { return nil }
            for value in low...high { numbers.insert(value) }
            if numbers.count > limit { return nil }
        }
        return numbers.sorted()
    }

    /// After STARTTLS the session starts unauthenticated: no mailbox. The selection counter
    /// goes on, so keys of the selections before stay distinct.
    mutating func reset() {
        mailbox = nil
        forgetMessages()
    }

    private mutating func forgetMessages() {
        isOpen = false
        sequenceUIDs.removeAll()
        messageCount = nil
        uidValidity = nil
    }
}
