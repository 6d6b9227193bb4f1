import MailD
import NIOCore

/// A mailbox session (POP3, IMAP) as the relay shell drives it. Both speak typed actions of
/// their own (what their tests assert on); this protocol derives the `RelaySession` conformance
/// from them once, so each session only says how its own actions read as `RelayAction`s.
public protocol MailboxRelaySession: RelaySession {
    associatedtype Action: MailboxRelayAction
    /// "STLS", "STARTTLS": for the log of injected bytes.
    static var startTLSCommand: String { get }
    /// Sent to the client in place of the greeting when the server cannot be reached (a
    /// temporary error, as SMTP's 421: the client retries later).
    static var unreachableReply: String { get }
    /// One action as the relay performs it.
    static func relayActions(of action: Action) -> [RelayAction]

    var bufferedBytes: Int { get }
    mutating func clientBytes(_ bytes: ByteBuffer) -> [Action]
    mutating func serverBytes(_ bytes: ByteBuffer) -> [Action]
    mutating func checkFinished(id: MailCheckID, verdict: MailCheckVerdict) -> [Action]
    mutating func serverClosed() -> [Action]
    mutating func clientClosed() -> [Action]
    mutating func resumeAfterTLS()
}

public extension MailboxRelaySession {
    mutating func clientInput(_ bytes: ByteBuffer) -> [RelayAction] { Self.relay(clientBytes(bytes)) }
    mutating func serverInput(_ bytes: ByteBuffer) -> [RelayAction] { Self.relay(serverBytes(bytes)) }
    mutating func verdict(_ id: MailCheckID, _ verdict: MailCheckVerdict) -> [RelayAction] {
        Self.relay(checkFinished(id: id, verdict: verdict))
    }
    mutating func serverClosed(connected: Bool) -> [RelayAction] {
        guard connected else { return [.sendToClient(ByteBuffer(string: Self.unreachableReply))] }
        return Self.relay(serverClosed())
    }
    mutating func clientClosed() -> [RelayAction] { Self.relay(clientClosed()) }
    mutating func tlsEstablished() { resumeAfterTLS() }
    var heldBytes: Int { bufferedBytes }

    /// The actions in order, each as the relay performs it.
    internal static func relay(_ actions: [Action]) -> [RelayAction] {
        actions.flatMap { relayActions(of: $0) }
    }

    /// `.injectionDiscarded` as the relay performs it.
    internal static func injectionDiscarded(from peer: RelayPeer, byteCount: Int) -> [RelayAction] {
        [.log(.notice, "\(byteCount) bytes from the \(peer) around \(startTLSCommand) discarded")]
    }

    /// `.close` as the relay performs it.
    internal static func close(_ reason: Action.CloseReason) -> [RelayAction] {
        [.log(.debug, "session closed: \(reason)"), .close]
    }
}
