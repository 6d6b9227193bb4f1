import Foundation

/// One row of the message log: a verdict on a message, or an administrator's action on a
/// quarantined one (`event` "release" or "delete").
public struct MessageLogEntry: Sendable, Codable, Equatable {
    public var id: String
    public var time: Date
    /// `[Root] NodeName` of the gateway that decided (or released).
    public var node: String
    public var event: String
    /// The interface (Milter, Spamd, Rspamd, LinuxFirewall, ClamD).
    public var interface: String
    public var clientAddress: String?
    public var sender: String?
    public var recipients: [String]
    public var messageId: String?
    public var subject: String?
    public var size: Int
    /// pass, reject, tempfail, discard, repack (with "+quarantine" when a copy was kept),
    /// or for events the action ("released", "deleted").
    public var verdict: String
    public var threats: [String]
    public var spamScore: Double?
    public var spamSymbols: [String]
    public var reason: String
    public var quarantineId: String?

    public init(id: String = RecordID.make(), time: Date = Date(), node: String, event: String = "verdict",
                interface: String, clientAddress: String? = nil, sender: String? = nil, recipients: [String] = [],
                messageId: String? = nil, subject: String? = nil, size: Int = 0, verdict: String, threats: [String] = [],
                spamScore: Double? = nil, spamSymbols: [String] = [], reason: String = "", quarantineId: String? = nil) {
        self.id = id
        self.time = time
        self.node = node
        self.event = event
        self.interface = interface
        self.clientAddress = clientAddress
        self.sender = sender
        self.recipients = recipients
        self.messageId = messageId
        self.subject = subject
        self.size = size
        self.verdict = verdict
        self.threats = threats
        self.spamScore = spamScore
        self.spamSymbols = spamSymbols
        self.reason = reason
        self.quarantineId = quarantineId
    }
}

/// What to search the message log for; nil fields do not filter. Addresses and Message-IDs
/// match whole (addresses case-insensitively), which the indexes answer.
public struct LogQuery: Sendable, Codable, Equatable {
    public var sender: String?
    public var recipient: String?
    public var messageId: String?
    public var verdict: String?
    public var node: String?
    public var since: Date?
    public var until: Date?
    /// Newest first, at most this many.
    public var limit: Int

    public init(sender: String? = nil, recipient: String? = nil, messageId: String? = nil, verdict: String? = nil,
                node: String? = nil, since: Date? = nil, until: Date? = nil, limit: Int = 100) {
        self.sender = sender
        self.recipient = recipient
        self.messageId = messageId
        self.verdict = verdict
        self.node = node
        self.since = since
        self.until = until
        self.limit = limit
    }
}
