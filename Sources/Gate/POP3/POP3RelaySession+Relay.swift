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
extension POP3RelaySession: MailboxRelaySession {
    public static var protocolName: String { "POP3" }
    public static var envelopeSource: Envelope.Source { .pop3 }
    public static var startTLSCommand: String { "STLS" }
    public static var unreachableReply: String { "-ERR [SYS/TEMP] The mail server cannot be reached, try again later\r\n" }

    public static func relayActions(of action: Action) -> [RelayAction] {
        switch action {
        case .sendToServer(let bytes): [.sendToServer(bytes)]
        case .sendToClient(let bytes): [.sendToClient(bytes)]
        case .checkMessage(let id, let message, let command):
            [.checkHeld(HeldMessageCheck(id: id, message: message, what: "\(command)"))]
        case .unchecked(let reason, let command): [.log(.notice, "relayed unscanned: \(command): \(reason)")]
        case .replaceUnchecked(let id, let head, let reason, let command):
            [.replaceUnchecked(id: id, head: head, what: "\(command): \(reason)", reason: reason.noticeText)]
        case .startTLSPassthrough: [.startTLS]
        case .injectionDiscarded(let from, let count): injectionDiscarded(from: from, byteCount: count)
        case .close(let reason): close(reason)
        }
    }

    public mutating func connectionStarted(blockUnchecked: Bool, knownBad: [IMAPMessageKey]) {
        self.blockUnchecked = blockUnchecked
    }
    public var awaitsServer: Bool { outstandingCommands > 0 }
}
