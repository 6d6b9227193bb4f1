/// What the front-end knows about a message besides its bytes: who sent it to whom, from
/// where, and which way it came in. Every field is optional because each protocol knows a
/// different part (spamd has no envelope at all; Milter has all of it).
public struct Envelope: Sendable, Codable, Equatable {
    public enum Source: String, Sendable, Codable {
        case milter, spamd, rspamd, clamd, smtp, pop3, imap, commandLine
    }

    public var source: Source
    public var sender: String?
    public var recipients: [String]
    public var helo: String?
    public var clientAddress: String?
    public var clientPort: Int?
    public var clientHostname: String?
    public var serverAddress: String?
    public var serverPort: Int?
    /// The MTA's queue id, for log lines an administrator can grep in both logs.
    public var queueId: String?
    /// The message travelled inside TLS that the gateway unwrapped (STARTTLS or implicit TLS).
    public var tls: Bool = false
    /// The TLS server name the client asked for, when it sent one.
    public var sniHost: String?

    public init(source: Source, sender: String? = nil, recipients: [String] = [], helo: String? = nil,
                clientAddress: String? = nil, clientPort: Int? = nil, clientHostname: String? = nil,
                serverAddress: String? = nil, serverPort: Int? = nil, queueId: String? = nil) {
        self.source = source
        self.sender = sender
        self.recipients = recipients
        self.helo = helo
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.clientHostname = clientHostname
        self.serverAddress = serverAddress
        self.serverPort = serverPort
        self.queueId = queueId
    }
}
