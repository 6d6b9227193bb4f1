import MailD
import NIOCore

extension MailUncheckedReason {
    /// The reason a replacement notice gives.
    var noticeText: String {
        switch self {
        case .tooLarge: "The message is larger than the gateway can check"
        case .topNotScanned, .partialFetch: "Part of the message could not be checked"
        case .truncatedByServer: "The message was cut short by the server"
        }
    }
}

/// The POP3 session as the relay shell drives it.
extension POP3RelaySession: RelaySession {
    public static var protocolName: String { "POP3" }
    public static var envelopeSource: Envelope.Source { .pop3 }

    static func relayActions(_ actions: [Action]) -> [RelayAction] {
        actions.flatMap { action -> [RelayAction] in
            switch action {
            case .sendToServer(let bytes): [.sendToServer(bytes)]
            case .sendToClient(let bytes): [.sendToClient(bytes)]
            case .checkMessage(let id, let message, let command):
                [.checkHeld(HeldMessageCheck(id: id, message: message, what: "\(command)"))]
            case .unchecked(let reason, let command): [.log(.notice, "relayed unscanned: \(command): \(reason)")]
            case .replaceUnchecked(let id, let head, let reason, let command):
                [.replaceUnchecked(id: id, head: head, what: "\(command): \(reason)", reason: reason.noticeText)]
            case .startTLSPassthrough: [.startTLS]
            case .injectionDiscarded(let from, let count): [.log(.notice, "\(count) bytes from the \(from) around STLS discarded")]
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
        // A temporary error in place of the greeting (as SMTP's 421): the client retries later.
        guard connected else { return [.sendToClient(ByteBuffer(string: "-ERR [SYS/TEMP] The mail server cannot be reached, try again later\r\n"))] }
        return Self.relayActions(serverClosed())
    }
    public mutating func clientClosed() -> [RelayAction] { Self.relayActions(clientClosed()) }
    public mutating func tlsEstablished() { resumeAfterTLS() }
    public mutating func connectionStarted(blockUnchecked: Bool, knownBad: [IMAPMessageKey]) {
        self.blockUnchecked = blockUnchecked
    }
    public var heldBytes: Int { bufferedBytes }
    public var awaitsServer: Bool { outstandingCommands > 0 }
}
