import MailD
import NIOCore
import Testing
@testable import MilterInterface

/// A session with the storing its handler does, in memory: every piece the session emits to be
/// stored is applied here as `MilterHandler` applies it to its `MessageCollector`, so a test
/// reads exactly the message the check would get, without a socket or a file.
struct StoringSession {
    var session: MilterSession
    /// What is stored of the message being received: nil before MAIL and after a drop.
    private(set) var stored: [UInt8]?
    /// Every piece the session emitted, in order.
    private(set) var pieces: [MessagePiece] = []
    /// The message of the last check: what was stored, then the request's last bytes.
    private(set) var checked: [UInt8]?

    init(_ session: MilterSession) { self.session = session }

    var checkedText: String? { checked.map { String(decoding: $0, as: UTF8.self) } }

    /// The action as the MTA sees it: a `store` is applied here and stands for its replies
    /// (`.none` when there are none); the other actions come back as they are.
    mutating func receive(_ command: MilterCommand) -> MilterSession.Action {
        let action = session.receive(command)
        switch action {
        case .store(let piece, let replies):
            apply(piece)
            return replies.isEmpty ? .none : .reply(replies)
        case .check(let request):
            if stored == nil { Issue.record("a check of a message that was never begun or was dropped") }
            checked = (stored ?? []) + Array(request.lastBytes.readableBytesView)
            stored = nil
        case .replyUnchecked, .close:
            // The handler drops what it stored with these.
            stored = nil
        case .none, .reply:
            break
        }
        return action
    }

    private mutating func apply(_ piece: MessagePiece) {
        pieces.append(piece)
        switch piece {
        case .begin:
            stored = []
        case .bytes(let bytes):
            if stored == nil { Issue.record("bytes to store without a message begun") }
            stored = (stored ?? []) + Array(bytes.readableBytesView)
        case .drop:
            stored = nil
        }
    }

    mutating func decided(id: Int, _ decision: Decision) -> MilterSession.Action { session.decided(id: id, decision) }
    mutating func timedOut(id: Int, blockUnchecked: Bool) -> MilterSession.Action { session.timedOut(id: id, blockUnchecked: blockUnchecked) }
    mutating func notStored(id: Int, reason: String) -> MilterSession.Action { session.notStored(id: id, reason: reason) }
    mutating func closed() {
        session.closed()
        stored = nil
    }
    func isChecking(id: Int) -> Bool { session.isChecking(id: id) }
    var isMidMessage: Bool { session.isMidMessage }
    var negotiated: MilterSession.Negotiated? { session.negotiated }
    var messagesChecked: Int { session.messagesChecked }
}
