import MailD
import NIOCore

/// The two ends of a relayed connection.
public enum RelaySide: Sendable, Hashable {
    /// The connection the Gate accepted (the diverted client).
    case client
    /// The Gate's own connection to the original destination.
    case server
}

/// What a protocol session knows about the message it asks to have checked.
public struct MessageCheckRequest: Sendable, Hashable {
    public var source: Envelope.Source
    public var sender: String?
    public var recipients: [String]
    public var helo: String?

    public init(source: Envelope.Source, sender: String? = nil, recipients: [String] = [], helo: String? = nil) {
        self.source = source
        self.sender = sender
        self.recipients = recipients
        self.helo = helo
    }
}

/// The core's decision, reduced to what a protocol session has to carry out.
public enum CheckOutcome: Sendable, Hashable {
    /// Deliver the message the relay holds (the original, or its repacked form); `size` is
    /// the size of what will be sent, unstuffed (IMAP needs it for its literal).
    case deliver(size: Int)
    /// Refuse for good with this text (one line, no CR/LF).
    case reject(String)
    /// Refuse for now.
    case tempfail(String)
    /// Accept and drop.
    case discard
    /// The message could not be held: every spool together is at its bound (try later).
    case storageFull
    /// Moat failed to store or read the message: try later, never a pass.
    case localError
}

/// What a protocol session asks its relay to do. Sessions are pure state machines: they
/// never touch a socket; `RelayConnection` performs these actions in order.
public enum RelayAction: Sendable, Hashable {
    case sendToServer(ByteBuffer)
    case sendToClient(ByteBuffer)
    /// Append (already unstuffed) message bytes to the message being received.
    case storeBody(ByteBuffer)
    /// The message went past the size limit: drop what was stored; nothing more comes.
    case dropBody
    /// The message is complete: run the core's check, then call `checkCompleted`.
    case checkMessage(MessageCheckRequest)
    /// Stream the checked message to `side`: `prefix`, the message (dot-stuffed and followed by
    /// ".\r\n" when `dotStuffed`), then `suffix`; then call `messageSent`.
    case sendMessage(to: RelaySide, prefix: ByteBuffer?, dotStuffed: Bool, suffix: ByteBuffer?)
    /// The server accepted STARTTLS: TLS starts now. The relay unwraps it (both legs, then calls
    /// `tlsEstablished()`) or relays raw bytes both ways from now on. Bytes still buffered from
    /// either side are dropped, never trusted.
    case startTLS
    /// The server does not speak the expected protocol; the bytes it sent so far are given so
    /// a blind relay can pass them on (`UnrecognizedProtocol = Relay`) or not (`Close`).
    case unrecognizedProtocol(ByteBuffer)
    /// Close both connections once what was written is flushed.
    case close
}

/// A protocol relay's state machine: SMTP here; POP3 and IMAP implement the same protocol so
/// that one `RelayConnection` (sockets, decoding, spooling, the core's check, timeouts,
/// keep-alives, backpressure) serves all three.
///
/// Every input arrives as a `MailLine` from `MailLineDecoder` (a line, or a piece of a line
/// longer than the decoder's limit). Methods return the actions to carry out in order.
public protocol RelayProtocolSession: SendableMetatype {
    /// "SMTP", "POP3", "IMAP": for logs.
    static var protocolName: String { get }

    mutating func serverLine(_ line: MailLine) -> [RelayAction]
    mutating func clientLine(_ line: MailLine) -> [RelayAction]
    /// The answer to `.checkMessage`.
    mutating func checkCompleted(_ outcome: CheckOutcome) -> [RelayAction]
    /// The message asked for with `.sendMessage` was written out.
    mutating func messageSent() -> [RelayAction]
    /// The message asked for with `.sendMessage` could not be read back (a spool I/O error)
    /// part-way: the session must not let the next hop take the part as the whole.
    mutating func messageFailed() -> [RelayAction]
    /// The relay's keep-alive timer fired while `needsKeepAlive`.
    mutating func keepAlive() -> [RelayAction]
    /// The server connection closed (or could not be made when `connected` is false).
    mutating func serverClosed(connected: Bool) -> [RelayAction]
    /// Both legs are TLS now and Moat holds the plaintext: start over as RFC 3207 says (the
    /// client greets again; nothing learned before TLS counts).
    mutating func tlsEstablished()
    /// A reply from the server took longer than the relay's reply timeout.
    mutating func serverTimedOut() -> [RelayAction]
    /// The client stayed silent longer than the client timeout while it was its turn.
    mutating func clientTimedOut() -> [RelayAction]

    /// False while input from the client would only pile up (a message being checked, a
    /// pipelined batch being held): the relay stops reading from the client.
    var wantsClientInput: Bool { get }
    /// True while the session waits for a reply from the server (the reply timeout runs).
    var awaitsServer: Bool { get }
    /// True while the server sits idle waiting for us (message being received or checked).
    var needsKeepAlive: Bool { get }
    /// True while it is the client's turn to speak (the client timeout runs).
    var awaitsClient: Bool { get }
}
