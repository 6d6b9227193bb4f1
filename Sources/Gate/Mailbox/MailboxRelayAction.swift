import NIOCore

/// The actions every mailbox session (POP3, IMAP) has in its own `Action` enum. The enum's
/// cases are the witnesses (`case sendToClient(ByteBuffer)` satisfies
/// `static func sendToClient(_:)`), so `MailboxConnection` builds them without either session
/// mapping anything, and the sessions' tests keep asserting on their typed actions.
public protocol MailboxRelayAction: Sendable {
    associatedtype CloseReason: MailboxCloseReason
    static func sendToServer(_ bytes: ByteBuffer) -> Self
    static func sendToClient(_ bytes: ByteBuffer) -> Self
    /// STARTTLS/STLS accepted and everything before it delivered: relay both legs untouched.
    static var startTLSPassthrough: Self { get }
    /// Bytes injected around STARTTLS/STLS were dropped.
    static func injectionDiscarded(from: RelayPeer, byteCount: Int) -> Self
    static func close(_ reason: CloseReason) -> Self
}

/// The close reasons both sessions have (each adds its own).
public protocol MailboxCloseReason: Sendable {
    static var clientClosed: Self { get }
    static var serverClosed: Self { get }
}
