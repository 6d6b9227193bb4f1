import MailD
import NIOCore

/// A protocol relay's state machine (SMTP, POP3, IMAP): the bytes read from each leg go in,
/// `RelayAction`s come out, and one `RelayShell` (sockets, spool, the core's check, timers,
/// backpressure, TLS) serves all three. Sessions never touch a socket, so each is tested event
/// by event.
///
/// A session gets its messages checked one of two ways, and implements the answer it asks
/// for: a message streamed into the relay's spool (`storeBody` + `checkMessage`, answered by
/// `checkCompleted`), or one the session holds itself (`checkHeld`/`replaceUnchecked`,
/// answered by `verdict`).
public protocol RelaySession: SendableMetatype {
    /// "SMTP", "POP3", "IMAP": for logs.
    static var protocolName: String { get }
    /// How the core's event log names where a message came from.
    static var envelopeSource: Envelope.Source { get }

    mutating func clientInput(_ bytes: ByteBuffer) -> [RelayAction]
    mutating func serverInput(_ bytes: ByteBuffer) -> [RelayAction]
    /// The answer to `.checkMessage`.
    mutating func checkCompleted(_ outcome: CheckOutcome) -> [RelayAction]
    /// The answer to `.checkHeld` and `.replaceUnchecked`.
    mutating func verdict(_ id: MailCheckID, _ verdict: MailCheckVerdict) -> [RelayAction]
    /// The message asked for with `.sendMessage` was written out.
    mutating func messageSent() -> [RelayAction]
    /// The message asked for with `.sendMessage` could not be read back (a spool I/O error)
    /// part-way: the session must not let the next hop take the part as the whole.
    mutating func messageFailed() -> [RelayAction]
    /// The server connection closed (or could not be made when `connected` is false). Checks
    /// still running are waited for before the client's connection closes.
    mutating func serverClosed(connected: Bool) -> [RelayAction]
    /// The client connection closed; both close right after these actions.
    mutating func clientClosed() -> [RelayAction]
    /// Both legs are TLS now and Moat holds the plaintext: start over as RFC 3207 says (the
    /// client greets again; nothing learned before TLS counts).
    mutating func tlsEstablished()
    /// The relay's keep-alive timer fired while `needsKeepAlive`.
    mutating func keepAlive() -> [RelayAction]
    /// A reply from the server took longer than the relay's reply timeout.
    mutating func serverTimedOut() -> [RelayAction]
    /// The client stayed silent longer than the client timeout while it was its turn.
    mutating func clientTimedOut() -> [RelayAction]
    /// Facts the relay knows when the connection starts.
    mutating func connectionStarted(blockUnchecked: Bool, knownBad: [IMAPMessageKey])

    /// False while input from the client would only pile up (a message being checked, a
    /// pipelined batch being held): the relay stops reading from the client.
    var wantsClientInput: Bool { get }
    /// Bytes held on behalf of the client (held messages, queued replies): past the relay's
    /// hold limit the server is not read.
    var heldBytes: Int { get }
    /// True while the session waits for a reply from the server (the reply timeout runs).
    var awaitsServer: Bool { get }
    /// True while the server sits idle waiting for us (message being received or checked).
    var needsKeepAlive: Bool { get }
    /// True while it is the client's turn to speak (the client timeout runs).
    var awaitsClient: Bool { get }
}

/// What most sessions do not need. The defaults fail closed: a session that gets an answer it
/// never asked for closes the connection rather than guess.
public extension RelaySession {
    mutating func checkCompleted(_ outcome: CheckOutcome) -> [RelayAction] { [.close] }
    mutating func verdict(_ id: MailCheckID, _ verdict: MailCheckVerdict) -> [RelayAction] { [.close] }
    mutating func messageSent() -> [RelayAction] { [] }
    mutating func messageFailed() -> [RelayAction] { [.close] }
    mutating func clientClosed() -> [RelayAction] { [] }
    mutating func keepAlive() -> [RelayAction] { [] }
    mutating func serverTimedOut() -> [RelayAction] { [.close] }
    mutating func clientTimedOut() -> [RelayAction] { [] }
    mutating func connectionStarted(blockUnchecked: Bool, knownBad: [IMAPMessageKey]) {}
    var wantsClientInput: Bool { true }
    var heldBytes: Int { 0 }
    var needsKeepAlive: Bool { false }
    var awaitsClient: Bool { false }
}
