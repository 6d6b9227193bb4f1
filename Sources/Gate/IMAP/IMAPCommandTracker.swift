import NIOCore

/// The client's commands as the relay follows them: the command being read, the ones still
/// waiting for their tagged reply (oldest first), IDLE and AUTHENTICATE (whose client lines are
/// data, not commands), and the replies the relay gives itself to commands it refuses.
///
/// A SELECT/EXAMINE takes effect when the server gets to it: when it becomes the oldest
/// outstanding command (replies to commands pipelined before it are still about the mailbox
/// before), or when its tagged reply comes first. `selectionToBegin()` hands it out once.
struct IMAPCommandTracker: Sendable {
    /// The command whose text or literals the client is sending.
    struct Line: Sendable, Equatable {
        var tag: String
        /// Not forwarded: the relay answers it (refused, or a tag already in use).
        var swallowed: Bool
    }

    struct Outstanding: Sendable, Equatable {
        var command: IMAPClientCommand
        /// For a SELECT/EXAMINE: it took effect already.
        var selectionBegun = false
    }

    /// A SELECT/EXAMINE taking effect now.
    struct Selection: Sendable, Equatable {
        var mailbox: String?
    }

    private(set) var line: Line?
    /// Tag of an IDLE/AUTHENTICATE in progress: client lines are data until its end.
    private(set) var rawLineTag: String?
    /// Tag of an IDLE whose DONE has not been sent yet.
    private(set) var idleTag: String?
    /// "+" requests of the server during an AUTHENTICATE that the client has not answered yet.
    private var continuationsToAnswer = 0
    private(set) var outstanding: [Outstanding] = []
    /// Replies of the relay's own, queued for the client between two server responses.
    private var localReplies: [ByteBuffer] = []

    var outstandingTags: [String] { outstanding.map(\.command.tag) }
    var isIdling: Bool { idleTag != nil }
    /// Client lines are data (SASL responses, the lines of an IDLE), not commands.
    var readsRawLines: Bool { rawLineTag != nil }
    /// The bytes of the current command are not forwarded.
    var swallowsLine: Bool { line?.swallowed == true }
    var hasLocalReplies: Bool { !localReplies.isEmpty }

    /// A SELECT, EXAMINE, CLOSE or UNSELECT is outstanding.
    var selectionChanging: Bool { outstanding.contains { $0.command.changesSelection } }
    /// The server is processing a SELECT, EXAMINE, CLOSE or UNSELECT now.
    var selectionInProgress: Bool { outstanding.first?.command.changesSelection ?? false }

    /// A command's first line segment arrived. Returns the command when it goes to the server
    /// (nil: untagged, or answered by the relay).
    mutating func begin(_ text: [UInt8]) -> IMAPClientCommand? {
        guard let command = IMAPClientCommand(line: text) else {
            line = nil
            return nil
        }
        line = Line(tag: command.tag, swallowed: false)
        if outstanding.contains(where: { $0.command.tag == command.tag }) {
            // A tag already in flight: the server's replies could not be told apart (the tagged
            // reply of the first could end a STARTTLS of the second, say). RFC 9051 2.2.1.
            refuse("\(command.tag) BAD Tag already in use by a command in progress\r\n")
            return nil
        }
        switch command.kind {
        case .refused(let reply):
            refuse(reply)
            return nil
        case .idle:
            rawLineTag = command.tag
            idleTag = command.tag
        case .authenticate:
            rawLineTag = command.tag
            continuationsToAnswer = 0
        default:
            break
        }
        outstanding.append(Outstanding(command: command))
        return command
    }

    private mutating func refuse(_ reply: String) {
        line?.swallowed = true
        localReplies.append(ByteBuffer(string: reply))
    }

    /// What a client line read while `readsRawLines` is.
    enum RawLine: Equatable {
        /// A SASL response the server asked for, or the DONE that ends an IDLE: forwarded.
        case data
        /// A line the server did not ask for. The server may have ended the IDLE or the
        /// AUTHENTICATE meanwhile and read it as a command (a STARTTLS, say) that the relay
        /// would have passed on as data, out of step with the server from then on: the session
        /// closes instead of forwarding it.
        case unasked(String)
    }

    /// A complete line while `readsRawLines`. During an IDLE only DONE may come (RFC 2177); it
    /// ends the IDLE, so the client's next bytes are commands again even before the server's
    /// tagged reply. During an AUTHENTICATE, a line answers one "+" continuation request.
    mutating func rawLine(_ text: [UInt8]) -> RawLine {
        if let idle = idleTag, rawLineTag == idle {
            guard String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespaces).uppercased() == "DONE"
            else { return .unasked("a line other than DONE during IDLE") }
            idleTag = nil
            rawLineTag = nil
            return .data
        }
        guard continuationsToAnswer > 0 else { return .unasked("an AUTHENTICATE line the server did not ask for") }
        continuationsToAnswer -= 1
        return .data
    }

    /// The server sent a "+" continuation request: during an AUTHENTICATE, the client may answer
    /// it with one line.
    mutating func serverContinuation() {
        guard rawLineTag != nil, idleTag == nil else { return }
        continuationsToAnswer += 1
    }

    /// The current command's line is complete (no literal follows).
    mutating func lineEnded() {
        line = nil
    }

    /// The oldest outstanding command, if it is a SELECT/EXAMINE that has not taken effect.
    mutating func selectionToBegin() -> Selection? {
        guard case .select(let mailbox)? = outstanding.first?.command.kind, outstanding[0].selectionBegun == false
        else { return nil }
        outstanding[0].selectionBegun = true
        return Selection(mailbox: mailbox)
    }

    /// The tagged reply for `tag` arrived: the command is no longer outstanding (nil if it was
    /// not); an IDLE or AUTHENTICATE with that tag is over.
    mutating func complete(_ tag: String) -> Outstanding? {
        if rawLineTag == tag {
            rawLineTag = nil
            continuationsToAnswer = 0
        }
        if idleTag == tag { idleTag = nil }
        guard let index = outstanding.firstIndex(where: { $0.command.tag == tag }) else { return nil }
        return outstanding.remove(at: index)
    }

    /// The reply refused the literal the client was about to send for its current command.
    mutating func abandonLine() {
        line = nil
    }

    mutating func takeLocalReplies() -> [ByteBuffer] {
        defer { localReplies.removeAll() }
        return localReplies
    }
}
