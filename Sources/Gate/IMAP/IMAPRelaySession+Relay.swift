import MailD
import NIOCore

/// The IMAP session as the relay shell drives it.
extension IMAPRelaySession: MailboxRelaySession {
    public static var protocolName: String { "IMAP" }
    public static var envelopeSource: Envelope.Source { .imap }
    public static var startTLSCommand: String { "STARTTLS" }
    public static var unreachableReply: String { "* BYE [UNAVAILABLE] The mail server cannot be reached, try again later\r\n" }

    public static func relayActions(of action: Action) -> [RelayAction] {
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
        case .injectionDiscarded(let from, let count): injectionDiscarded(from: from, byteCount: count)
        case .close(let reason): close(reason)
        }
    }

    public mutating func connectionStarted(blockUnchecked: Bool, knownBad: [IMAPMessageKey]) {
        self.blockUnchecked = blockUnchecked
        knownBad.forEach { noteBlocked($0) }
    }
    public var wantsClientInput: Bool { acceptsClientInput }
    /// IDLE waits for the client's DONE, however long the server stays silent; the private
    /// fetch is waited for like a command.
    public var awaitsServer: Bool { awaitsServerReply }
}

extension IMAPMessageRef: CustomStringConvertible {
    public var description: String {
        "\(mailbox ?? "?") seq \(sequence.map(String.init) ?? "?") uid \(uid.map(String.init) ?? "?")"
    }
}
