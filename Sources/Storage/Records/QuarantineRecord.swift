import Foundation

/// A quarantined message (`kind` "message": the original bytes as received) or a kept
/// repack archive (`kind` "archive": the protected archive the recipient got, so the
/// administrator can hand its attachment back), with its envelope and verdict.
public struct QuarantineRecord: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case message, archive
    }

    public var id: String
    public var time: Date
    /// The node that kept the file.
    public var node: String
    public var kind: Kind
    public var interface: String
    public var clientAddress: String?
    public var sender: String?
    public var recipients: [String]
    public var messageId: String?
    public var subject: String?
    public var size: Int
    public var verdict: String
    public var threats: [String]
    public var reason: String
    /// The file, relative to the node's quarantine directory.
    public var file: String
    /// For an archive: the quarantined message it came from, if that was kept too.
    public var messageRef: String?
    public var releasedAt: Date?
    public var releasedBy: String?

    public init(id: String = RecordID.make(), time: Date = Date(), node: String, kind: Kind = .message,
                interface: String, clientAddress: String? = nil, sender: String? = nil, recipients: [String] = [],
                messageId: String? = nil, subject: String? = nil, size: Int, verdict: String, threats: [String] = [],
                reason: String = "", file: String, messageRef: String? = nil, releasedAt: Date? = nil,
                releasedBy: String? = nil) {
        self.id = id
        self.time = time
        self.node = node
        self.kind = kind
        self.interface = interface
        self.clientAddress = clientAddress
        self.sender = sender
        self.recipients = recipients
        self.messageId = messageId
        self.subject = subject
        self.size = size
        self.verdict = verdict
        self.threats = threats
        self.reason = reason
        self.file = file
        self.messageRef = messageRef
        self.releasedAt = releasedAt
        self.releasedBy = releasedBy
    }
}

/// What to list from the quarantine; nil fields do not filter.
public struct QuarantineQuery: Sendable, Codable, Equatable {
    public var sender: String?
    public var recipient: String?
    public var messageId: String?
    public var kind: QuarantineRecord.Kind?
    public var since: Date?
    public var until: Date?
    public var limit: Int

    public init(sender: String? = nil, recipient: String? = nil, messageId: String? = nil,
                kind: QuarantineRecord.Kind? = nil, since: Date? = nil, until: Date? = nil, limit: Int = 100) {
        self.sender = sender
        self.recipient = recipient
        self.messageId = messageId
        self.kind = kind
        self.since = since
        self.until = until
        self.limit = limit
    }
}
