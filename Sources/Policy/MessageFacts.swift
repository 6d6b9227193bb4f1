import MoatConfig

/// What the rules may look at. The MailD core (or a gateway front-end) fills it from the
/// connection, the envelope, the parsed message and the scan; Policy never parses mail itself.
public struct MessageFacts: Sendable, Equatable {
    // Connection
    public var protocolName: MailProtocol?
    public var direction: Direction?
    public var clientIP: String?
    public var clientPort: Int?
    public var clientHostname: String?
    public var serverIP: String?
    public var serverPort: Int?
    /// The TLS server name the client asked for, if any.
    public var sniHost: String?
    /// The connection (or the session inside it) is encrypted.
    public var tls: Bool
    /// The gateway terminates TLS to scan inside.
    public var unwrapSsl: Bool
    /// The authenticated user (SMTP AUTH), if any.
    public var authUser: String?

    // Envelope
    public var helo: String?
    /// Envelope sender; an empty string is the null sender `<>`.
    public var envelopeFrom: String?
    public var envelopeTo: [String]

    // Message
    public var messageId: String?
    public var subject: String?
    /// Header fields in message order, values unfolded and decoded.
    public var headers: [HeaderField]
    /// Decoded text of the text parts; the core may truncate it (matching looks at 1 MB at most).
    public var bodyText: String
    public var messageSize: Int
    public var parts: [PartFacts]

    // Scan
    public var spamScore: Double?
    /// Names of the anti-spam symbols that matched (GTUBE, BAYES_SPAM, URL_HOST_MISMATCH, ...).
    public var spamSymbols: [String]
    /// Reasons the message as a whole could not be checked (parts carry their own).
    public var unchecked: [UncheckedReason]

    // Sender authentication: nil when not checked.
    public var sender: SenderFacts?

    public init(
        protocolName: MailProtocol? = nil, direction: Direction? = nil,
        clientIP: String? = nil, clientPort: Int? = nil, clientHostname: String? = nil,
        serverIP: String? = nil, serverPort: Int? = nil, sniHost: String? = nil,
        tls: Bool = false, unwrapSsl: Bool = false, authUser: String? = nil,
        helo: String? = nil, envelopeFrom: String? = nil, envelopeTo: [String] = [],
        messageId: String? = nil, subject: String? = nil, headers: [HeaderField] = [],
        bodyText: String = "", messageSize: Int = 0, parts: [PartFacts] = [],
        spamScore: Double? = nil, spamSymbols: [String] = [], unchecked: [UncheckedReason] = [],
        sender: SenderFacts? = nil
    ) {
        self.protocolName = protocolName
        self.direction = direction
        self.clientIP = clientIP
        self.clientPort = clientPort
        self.clientHostname = clientHostname
        self.serverIP = serverIP
        self.serverPort = serverPort
        self.sniHost = sniHost
        self.tls = tls
        self.unwrapSsl = unwrapSsl
        self.authUser = authUser
        self.helo = helo
        self.envelopeFrom = envelopeFrom
        self.envelopeTo = envelopeTo
        self.messageId = messageId
        self.subject = subject
        self.headers = headers
        self.bodyText = bodyText
        self.messageSize = messageSize
        self.parts = parts
        self.spamScore = spamScore
        self.spamSymbols = spamSymbols
        self.unchecked = unchecked
        self.sender = sender
    }

    /// Every threat found in any part.
    public var threats: [ThreatFact] { parts.flatMap(\.threats) }
    /// Message-level and part-level reasons the message was not fully checked.
    public var allUnchecked: [UncheckedReason] { unchecked + parts.flatMap(\.unchecked) }
}

/// One header field of the message.
public struct HeaderField: Sendable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One MIME part (leaf) of the message as the core saw it.
public struct PartFacts: Sendable, Equatable {
    /// Position in the MIME tree, e.g. "1.2".
    public var path: String
    public var filename: String?
    /// MIME type, e.g. "application/zip".
    public var contentType: String
    public var size: Int
    public var threats: [ThreatFact]
    public var unchecked: [UncheckedReason]

    // Sender authentication: nil when not checked.
    public var sender: SenderFacts?

    public init(path: String, filename: String? = nil, contentType: String = "text/plain", size: Int = 0,
                threats: [ThreatFact] = [], unchecked: [UncheckedReason] = []) {
        self.path = path
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.threats = threats
        self.unchecked = unchecked
    }
}

/// A threat the engine reported.
public struct ThreatFact: Sendable, Hashable {
    public var name: String
    public var category: ThreatCategory
    public init(name: String, category: ThreatCategory) {
        self.name = name
        self.category = category
    }
}

/// Why (part of) a message could not be checked.
public enum UncheckedReason: String, Sendable, Hashable, CaseIterable {
    case timeout = "Timeout"
    case limitExceeded = "LimitExceeded"
    case encrypted = "Encrypted"
    case malformed = "Malformed"
    case engineError = "EngineError"
}

/// The protocol or interface the message came through.
public enum MailProtocol: String, Sendable, Hashable, CaseIterable {
    case smtp = "Smtp"
    case pop3 = "Pop3"
    case imap = "Imap"
    case milter = "Milter"
    case spamd = "Spamd"
    case rspamd = "Rspamd"
    case clamd = "Clamd"
}

public enum Direction: String, Sendable, Hashable, CaseIterable {
    case inbound = "Inbound"
    case outbound = "Outbound"
}

/// Summary of the scan, for `scan_result`.
public enum ScanResult: String, Sendable, Hashable, CaseIterable {
    case clean = "Clean"
    case threat = "Threat"
    case unchecked = "Unchecked"
}

extension MessageFacts {
    public var scanResult: ScanResult {
        if !threats.isEmpty { return .threat }
        if !allUnchecked.isEmpty { return .unchecked }
        return .clean
    }
}
