import MailD
import NIOCore

/// The IMAP session as the relay shell drives it.
extension IMAPRelaySession: RelaySession {
    public static var protocolName: String { "IMAP" }
    public static var envelopeSource: Envelope.Source { .imap }

    static func relayActions(_ actions: [Action]) -> [RelayAction] {
        actions.flatMap { action -> [RelayAction] in
            switch action {
            case .sendToServer(let bytes): [.sendToServer(bytes)]
            case .sendToClient(let bytes): [.sendToClient(bytes)]
            case .checkMessage(let id, let message, let ref, let item):
                [.checkHeld(HeldMessageCheck(id: id, message: message, what: "\(item) of \(ref)", key: ref.key))]
            case .unchecked(let reason, let ref): [.log(.notice, "relayed unscanned: \(ref): \(reason)")]
            case .replaceUnchecked(let id, let head, let reason, let ref):
                [.replaceUnchecked(id: id, head: head, what: "\(ref): \(reason)", reason: reason.noticeText)]
            case .withheld(let reason, let ref):
                [.log(.notice, "delivered empty, not scanned (BlockUnchecked = Yes): \(ref): \(reason)")]
            case .privateFetchRefused(let command, let status):
                [.log(.notice, "the server answered \(status) to the private \(command): partial fetches of those messages are unchecked")]
            case .startTLSPassthrough: [.startTLS]
            case .injectionDiscarded(let from, let count): [.log(.notice, "\(count) bytes from the \(from) around STARTTLS discarded")]
            case .close(let reason): [.log(.debug, "session closed: \(reason)"), .close]
            }
        }
    }

    public mutating func clientInput(_ bytes: ByteBuffer) -> [RelayAction] { Self.relayActions(clientBytes(bytes)) }
    public mutating func serverInput(_ bytes: ByteBuffer) -> [RelayAction] { Self.relayActions(serverBytes(bytes)) }
    public mutating func verdict(_ id: MailCheckID, _ verdict: MailCheckVerdict) -> [RelayAction] {
        Self.relayActions(checkFinished(id: id, verdict: verdict))
    }
    public mutating func serverClosed(connected: Bool) -> [RelayAction] {
        guard connected else { return [.sendToClient(ByteBuffer(string: "* BYE [UNAVAILABLE] The mail server cannot be reached, try again later\r\n"))] }
        return Self.relayActions(serverClosed())
    }
    public mutating func clientClosed() -> [RelayAction] { Self.relayActions(clientClosed()) }
    public mutating func tlsEstablished() { resumeAfterTLS() }
    public mutating func connectionStarted(blockUnchecked: Bool, knownBad: [IMAPMessageKey]) {
        self.blockUnchecked = blockUnchecked
        knownBad.forEach { noteBlocked($0) }
    }
    public var wantsClientInput: Bool { acceptsClientInput }
    public var heldBytes: Int { bufferedBytes }
    /// IDLE waits for the client's DONE, however long the server stays silent; the private
    /// fetch is waited for like a command.
    public var awaitsServer: Bool { awaitsServerReply }
}

extension IMAPMessageRef: CustomStringConvertible {
    public var description: String {
        "\(mailbox ?? "?") seq \(sequence.map(String.init) ?? "?") uid \(uid.map(String.init) ?? "?")"
    }
}
