import MailD
import NIOCore

/// The SMTP relay between a diverted client and its original server, as a state machine.
///
/// The dialogue is relayed command by command; replies are matched to commands through an
/// ordered queue, so PIPELINING works (RFC 2920). What Moat changes:
///
/// - **EHLO**: extensions Moat cannot honour are removed from the server's list (CHUNKING and
///   BINARYMIME until BDAT is supported, XCLIENT/XFORWARD, XEXCH50, CHECKPOINT); the rest
///   (PIPELINING, 8BITMIME, SMTPUTF8, SIZE, DSN, AUTH, STARTTLS, ...) pass untouched.
/// - **DATA is store-and-forward**: the client's DATA is answered by Moat (354 when at least
///   one RCPT was accepted by the server; otherwise 503/554 as Postfix does), the message is
///   received and unstuffed, then checked. Only a message to deliver is sent upstream (DATA,
///   the message re-stuffed, "."), and the client gets the **server's own** final reply, so it
///   never hears 250 before the server accepted. A refusal gives 550 5.7.1 / 451 4.7.1 with the
///   rule's text, and RSET upstream keeps both ends in step.
/// - **Commands are parsed as the servers parse them** (`SMTPCommand`: leading white space
///   skipped, the verb ends at any white space, no case) and sent upstream rebuilt from what was
///   parsed. Only the verbs in `relayedCommands` reach the server; others get the Gate's own 502,
///   NUL or bare CR in a command 500, a command line over `commandLineLimit` 500 (never cut).
/// - **Only replies the Gate asked for pass.** An intermediate reply (3xx) to anything but the
///   Gate's own DATA or an AUTH exchange, or any reply nobody asked for, closes both sides with
///   421: a server that says 354 to a command the Gate took for something else must never get
///   the message relayed line by line, unscanned.
/// - **The message** is read by `SMTPDataReader` (end only at CRLF.CRLF, bare CR/LF stored as
///   CRLF) and stored only up to `maxMessageSize`: past it the rest is read to the end and
///   dropped, and the client gets 552. `MAIL FROM:<...> SIZE=n` over the limit gets 552 at once,
///   and the EHLO reply's SIZE says the lower of the server's limit and the Gate's. Lines sent
///   after DATA before the Gate's 354 (pipelining where RFC 2920 forbids it) close the session.
/// - **BDAT** is refused (CHUNKING was not offered); its chunk is skipped, never relayed as
///   commands; a size that is not a plain decimal within `maxMessageSize` closes the session
///   (the framing cannot be followed). XCLIENT/XFORWARD from a client are refused (they would
///   forge the audit trail).
/// - **STARTTLS**: relayed; client bytes pipelined after the command are discarded
///   (CVE-2011-0411 class), and so is everything either side sends after the server's 220
///   until TLS is up (server bytes that came with the 220 would reach the client in plaintext,
///   as if inside TLS). The relay then either unwraps TLS on both legs (`UnwrapSsl`; then
///   `tlsEstablished()` starts the session over, waiting for the client's new EHLO) or relays
///   the encrypted session blindly.
///
/// While a message is received or checked, the server waits with the client's transaction
/// open; `keepAlive()` sends NOOP (whose reply is swallowed) so its idle timer (Postfix
/// `smtpd_timeout`, 300 s) never runs out. The client, after its final ".", waits for the
/// reply up to 10 minutes (RFC 5321 4.5.3.2.6); SMTP has no progress reply for it, so the check
/// (ScanTimeout, 30 s by default) must end well within that.
public struct SMTPRelaySession: RelaySession {
    public static let protocolName = "SMTP"
    public static let envelopeSource = Envelope.Source.smtp

    public struct Configuration: Sendable {
        /// EHLO keywords removed from the server's reply (upper case).
        public var removedExtensions: Set<String> = ["CHUNKING", "BINARYMIME", "XEXCH50", "CHECKPOINT",
                                                     "XCLIENT", "XFORWARD"]
        /// Commands answered with 502 instead of being relayed.
        public var refusedCommands: Set<String> = ["XCLIENT", "XFORWARD", "XEXCH50"]
        /// Client lines held (pipelined while a message is checked) before reading pauses.
        public var maximumHeldLines = 100
        /// The verbs relayed to the server; everything else gets the Gate's own 502. DATA, BDAT
        /// and the refused ones are the Gate's own business and are not listed.
        public var relayedCommands: Set<String> = ["EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP", "QUIT", "VRFY",
                                                   "EXPN", "HELP", "AUTH", "STARTTLS", "ETRN"]
        /// Longest command line, CRLF included (Postfix's `line_length_limit`).
        public var commandLineLimit = 2048
        /// Longest AUTH line (initial responses and SASL continuations: OAuth tokens are long).
        public var authLineLimit = 16384
        /// Largest message (unstuffed bytes) stored for checking (MaxMessageSize).
        public var maxMessageSize = 64 << 20
        /// Commands the Gate itself refused (unknown, malformed, too long) before it closes the
        /// session (Postfix's `smtpd_hard_error_limit` is 20; a client that sends this many is
        /// not speaking SMTP).
        public var errorLimit = 20

        public init() {}
    }

    enum State: Equatable {
        case awaitingGreeting
        case command
        /// DATA was given; earlier replies are still outstanding.
        case awaitingDataDecision
        case receivingData
        case checking
        case awaitingUpstreamData
        case sendingMessage
        /// STARTTLS was sent; client bytes are discarded until the server answers.
        case startTLSPending
        /// The server said 220 to STARTTLS: nothing either side sends is taken until TLS is up
        /// (then the relay resumes the session or stops using it for a blind relay).
        case tlsStarting
        case closed
    }

    /// What a reply at the head of the queue answers.
    enum Expectation: Equatable {
        case greeting
        case relay
        case ehlo
        /// The sender takes effect only when the server accepts it: a refused (nested) MAIL
        /// leaves the open transaction as the server keeps it.
        case mail(String?)
        case rcpt(String)
        case auth
        case startTLS
        case quit
        /// A command Moat sent on its own (NOOP keep-alive, RSET after a refusal).
        case swallow
        case upstreamData
        case endOfData
        /// Not a server reply: an answer Moat gives itself, in its turn.
        case local(String)
        /// Not a server reply: decide on the client's DATA once everything before it is answered.
        case dataDecision

        var isServerReply: Bool {
            switch self {
            case .local, .dataDecision: false
            default: true
            }
        }

        /// May the server answer with 3xx: only the Gate's own DATA and an AUTH exchange.
        var mayBeIntermediate: Bool {
            switch self {
            case .auth, .upstreamData: true
            default: false
            }
        }
    }

    struct Transaction: Equatable {
        var sender: String?
        var recipients: [String] = []
        var recipientsTried = 0
    }

    public let configuration: Configuration
    var state: State = .awaitingGreeting
    var expectations: [Expectation] = [.greeting]
    /// Lines from each side; replaced (their buffered bytes dropped) when TLS starts.
    var clientLines = NIOSingleStepByteToMessageProcessor(MailLineDecoder())
    var serverLines = NIOSingleStepByteToMessageProcessor(MailLineDecoder())
    var held: [MailLine] = []
    var reply: [MailLine] = []
    var transaction = Transaction()
    var helo: String?
    /// Bytes of a refused BDAT chunk still to skip.
    var skipping = 0
    /// The rest of an over-long command line is being discarded.
    var discardingLine = false
    /// The server asked for an AUTH continuation (334): the next client line is not a command.
    var authContinuation = false
    var data = SMTPDataReader()
    /// Unstuffed bytes of the message so far (stored or, past the limit, dropped).
    var received = 0
    /// The message went past `maxMessageSize`: the rest is read and dropped.
    var tooLarge = false
    /// Commands refused by the Gate so far (see `errorLimit`).
    var errors = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: - State the relay reads

    public var wantsClientInput: Bool {
        switch state {
        case .closed: return false
        default: return held.count < configuration.maximumHeldLines
        }
    }

    public var awaitsServer: Bool {
        state != .tlsStarting && state != .closed && expectations.contains(where: \.isServerReply)
    }

    public var needsKeepAlive: Bool {
        (state == .receivingData || state == .checking) && !expectations.contains(where: \.isServerReply)
    }

    public var awaitsClient: Bool {
        (state == .command && expectations.isEmpty) || state == .receivingData
    }
}
