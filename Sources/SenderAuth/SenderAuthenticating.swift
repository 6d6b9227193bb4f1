/// What sender authentication looks at: the connection and envelope facts and the message.
public struct SenderContext: Sendable {
    /// The SMTP client's address (text, IPv4 or IPv6); nil when the path does not know it.
    public var clientIP: String?
    public var helo: String?
    /// MAIL FROM without angle brackets; "" is the null sender; nil when there is no envelope.
    public var mailFrom: String?
    /// The whole message, header and body, as received.
    public var message: [UInt8]
    /// The host names of the message's links (for URI blocklists), as the anti-spam engine
    /// found them.
    public var urlHosts: [String]
    /// Where the checks' tasks run: the executor of the message's check (MailD's
    /// `CheckExecution`, a connection's event loop for a small message); nil: the global pool.
    public var executor: (any TaskExecutor)?

    public init(clientIP: String?, helo: String?, mailFrom: String?, message: [UInt8], urlHosts: [String] = [],
                executor: (any TaskExecutor)? = nil) {
        self.executor = executor
        self.clientIP = clientIP
        self.helo = helo
        self.mailFrom = mailFrom
        self.message = message
        self.urlHosts = urlHosts
    }
}

/// Runs every sender check MailD asks for. Implementations finish by `deadline` whatever DNS
/// does: a check still waiting then reports `temperror`, never blocks the message.
public protocol SenderAuthenticating: Sendable {
    func authenticate(_ context: SenderContext, deadline: ContinuousClock.Instant) async -> SenderAuthentication
}
