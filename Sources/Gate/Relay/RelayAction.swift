import Logging
import MailD
import NIOCore

/// The two ends of a relayed connection.
public enum RelaySide: Sendable, Hashable, CustomStringConvertible {
    /// The connection the Gate accepted (the diverted client).
    case client
    /// The Gate's own connection to the original destination.
    case server

    public var description: String { self == .client ? "client" : "server" }
    var other: RelaySide { self == .client ? .server : .client }
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

/// A message a mailbox session (POP3, IMAP) holds in memory while the core checks it: the
/// session keeps the server's bytes and delivers them, or the replacement, itself.
public struct HeldMessageCheck: Sendable, Equatable {
    public var id: MailCheckID
    public var message: [UInt8]
    /// What the message is, for the log ("RETR 2", "BODY[] of INBOX uid 7").
    public var what: String
    /// The IMAP message, remembered as known bad when the verdict replaces it.
    public var key: IMAPMessageKey?
}

/// The core's decision about the message the relay stored, reduced to what a protocol
/// session has to carry out.
public enum CheckOutcome: Sendable, Hashable {
    /// Deliver the message the relay holds (the original with the added headers, or its
    /// repacked form); `size` is the size of what will be sent, unstuffed.
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

/// The one vocabulary every protocol session (SMTP, POP3, IMAP) speaks to its relay. Sessions
/// are pure state machines: they never touch a socket; `RelayShell` performs these actions in
/// order.
public enum RelayAction: Sendable, Equatable {
    case sendToServer(ByteBuffer)
    case sendToClient(ByteBuffer)
    /// Append (already unstuffed) message bytes to the message being received (SMTP).
    case storeBody(ByteBuffer)
    /// The message went past the size limit: drop what was stored; nothing more comes.
    case dropBody
    /// The stored message is complete: run the core's check, then call `checkCompleted`.
    case checkMessage(MessageCheckRequest)
    /// Check a message the session holds; the answer comes with `verdict(_:_:)`.
    case checkHeld(HeldMessageCheck)
    /// A held message that cannot be checked, BlockUnchecked on: answered like a check, with
    /// `.deliver` of a notice built from `head` (the message's first bytes) saying `reason`.
    case replaceUnchecked(id: MailCheckID, head: [UInt8], what: String, reason: String)
    /// Stream the stored, checked message to `side`: `prefix`, the message (dot-stuffed and
    /// followed by ".\r\n" when `dotStuffed`), then `suffix`; then call `messageSent`.
    case sendMessage(to: RelaySide, prefix: ByteBuffer?, dotStuffed: Bool, suffix: ByteBuffer?)
    /// The server accepted STARTTLS/STLS and everything before it was delivered: TLS starts
    /// now. The relay unwraps it (both legs, then calls `tlsEstablished()`) or relays raw bytes
    /// both ways from now on. The session has already dropped what it buffered.
    case startTLS
    /// The server does not speak the expected protocol; the bytes it sent so far are given so
    /// a blind relay can pass them on (`UnrecognizedProtocol = Relay`) or not (`Close`).
    case unrecognizedProtocol(ByteBuffer)
    /// Something for the log (content relayed unscanned, injected bytes dropped, ...).
    case log(Logger.Level, String)
    /// Close both connections once what was written is flushed.
    case close
}
