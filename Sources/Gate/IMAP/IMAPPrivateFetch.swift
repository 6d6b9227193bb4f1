import NIOCore

/// The private fetch (see the session's header): one phase, the client bytes held behind it,
/// and the checks of the messages it fetched. The session decides what to fetch and when; this
/// type keeps the phase transitions and the bookkeeping honest.
struct IMAPPrivateFetch: Sendable {
    /// A client FETCH that needs the private fetch first.
    struct Request: Sendable, Equatable {
        var uid: Bool
        var set: String
    }

    enum Phase: Sendable, Equatable {
        case none
        /// The client's command is held; earlier client commands are still outstanding.
        case waiting(Request)
        /// The private command is out.
        case running(tag: String, command: String)
        /// Its tagged reply is in; checks of its messages are outstanding.
        case checking
    }

    struct Check: Sendable, Equatable {
        var key: IMAPMessageKey?
        var size: Int
    }

    private(set) var phase = Phase.none
    /// The client's bytes from the command that needed the fetch on: not parsed, not forwarded.
    private(set) var heldClientInput = ByteBuffer()
    /// The held bytes are being processed again: their first command was judged already.
    private var judged = false
    private var nextTag = 1
    private var checks: [MailCheckID: Check] = [:]
    /// Bytes of fetched messages still being checked.
    private(set) var checkBytes = 0

    var isActive: Bool { phase != .none }

    var isRunning: Bool {
        if case .running = phase { return true }
        return false
    }

    /// `tag` is the private command's: its tagged reply never reaches the client.
    func isOwn(tag: String) -> Bool {
        if case .running(let own, _) = phase { return own == tag }
        return false
    }

    /// The client command in `command` (its first segment) needs the fetch: it and `rest`
    /// (everything the client sent after it) are held.
    mutating func hold(_ command: ByteBuffer, rest: ByteBuffer, for request: Request) {
        heldClientInput = command
        var rest = rest
        heldClientInput.writeBuffer(&rest)
        phase = .waiting(request)
    }

    /// Client bytes that arrive while the fetch is active.
    mutating func holdMore(_ bytes: ByteBuffer) {
        var bytes = bytes
        heldClientInput.writeBuffer(&bytes)
    }

    /// True once for the first command of the bytes handed back by `finishIfDone`.
    mutating func takeJudged() -> Bool {
        defer { judged = false }
        return judged
    }

    /// Waiting, and the earlier commands are answered: the line to send for `set` (the
    /// messages of unknown verdict), or nil when nothing is to be fetched any more.
    mutating func start(set: String?) -> ByteBuffer? {
        guard case .waiting(let request) = phase else { return nil }
        guard let set else {
            phase = .checking
            return nil
        }
        let tag = "moat.\(nextTag)"
        nextTag += 1
        let command = "\(request.uid ? "UID " : "")FETCH \(set) (UID BODY.PEEK[])"
        phase = .running(tag: tag, command: command)
        return ByteBuffer(string: "\(tag) \(command)\r\n")
    }

    /// The private command's tagged reply: the command when the server refused it.
    mutating func replied(status: String) -> String? {
        guard case .running(_, let command) = phase else { return nil }
        phase = .checking
        return status == "OK" ? nil : command
    }

    mutating func checking(_ id: MailCheckID, key: IMAPMessageKey?, size: Int) {
        checks[id] = Check(key: key, size: size)
        checkBytes += size
    }

    /// The verdict of check `id`: the check, nil when it is not one of the fetch's.
    mutating func checkFinished(_ id: MailCheckID) -> Check? {
        guard let check = checks.removeValue(forKey: id) else { return nil }
        checkBytes -= check.size
        return check
    }

    /// The fetch is over (reply in, every check answered): the held client bytes, to be
    /// processed as if they had just arrived. Nil while it is not over.
    mutating func finishIfDone() -> ByteBuffer? {
        guard phase == .checking, checks.isEmpty else { return nil }
        phase = .none
        judged = true
        defer { heldClientInput = ByteBuffer() }
        return heldClientInput
    }

    /// The server closed: the held commands will never be answered.
    mutating func dropHeldInput() {
        heldClientInput.clear()
    }

    /// After STARTTLS nothing from before counts. (None can be active: STARTTLS is held
    /// behind a private fetch like any command.)
    mutating func reset() {
        phase = .none
        heldClientInput = ByteBuffer()
        judged = false
    }
}
