// IMAP relay state machine (no I/O). The Gate core feeds it the bytes read from each leg and
// performs the returned actions in order.
//
// # Scanning policy
//
// - Whole-message fetch items — `BODY[]` (what the server answers to `BODY.PEEK[]`), `RFC822` and
//   `BINARY[]` — whose literal is at most `maxLiteralSize` (MaxMessageSize) bytes are held: the
//   response is relayed up to the literal marker, the literal is kept, and when the response is
//   complete the session emits `checkMessage(id:message:ref:item:)`. The verdict `.pass` sends the
//   original marker and bytes; `.deliver(m)` sends `{m.count}` (`~{m.count}` for literal8) and `m`.
//   Whatever followed the literal in the response (FLAGS, UID, more items) follows unchanged.
//   Several whole-message items in one response are checked separately. For `BINARY[]` the
//   scanner gets what the server sent: the message with its transfer encodings already undone.
// - Bigger whole-message literals are not scanned. With `blockUnchecked` off (BlockUnchecked = No)
//   they are relayed as they arrive and reported `unchecked(.tooLarge)`. With it on, the literal
//   is read and dropped (only its first `noticeHeadSize` bytes are kept, for the header) and the
//   session emits `replaceUnchecked(id:head:reason:ref:)`: the core answers
//   `checkFinished(id:, .deliver(notice))` and the client gets the notice as the literal.
// - Partial and per-part content fetches (`BODY[1]`, `BODY[TEXT]`, `BODY[]<0>` — the reply to
//   `BODY[]<0.1024>` —, `RFC822.TEXT`, `BINARY[2]`) cannot be scanned as they are: a part lacks
//   its context (content type, transfer encodings of its parents) and a byte range is not a file.
//   They are decided by the verdict of the whole message, which the session keeps per
//   (mailbox, UIDVALIDITY, UID) in a bounded cache (`verdictCacheSize`): clean → relayed
//   unchanged; bad → delivered as an empty literal (`{0}` / `~{0}`); unchecked or unknown →
//   reported `unchecked(.partialFetch(item:))` and relayed (BlockUnchecked = No) or delivered
//   empty and reported `withheld` (BlockUnchecked = Yes). Verdicts come from whole-message checks
//   in this session, from `noteBlocked(_:)` (the core's cross-connection list of bad messages),
//   and from the private fetch below.
//   Why empty rather than the matching part of the repacked message: the client chose the part
//   or range from the original's BODYSTRUCTURE and RFC822.SIZE, which the repacked message does
//   not follow (other parts, other sizes, a new archive each time it is built), so a part of it
//   would be the wrong content under the right name. The whole-message fetch is where the
//   repacked message is delivered.
// - The private fetch (Dr.Web SpIDer Mail's approach): when the client sends `FETCH` or
//   `UID FETCH` with a partial content item for messages whose verdict is unknown, that command
//   and everything the client sends after it are held (not parsed, not forwarded). Once no
//   earlier client command is outstanding at the server (so that every FETCH response until its
//   tagged reply is the private command's), the session sends its own command under its own tag
//   (`moat.<n>`): `UID FETCH <uids> (UID BODY.PEEK[])` for a UID FETCH, `FETCH <seqs> (UID
//   BODY.PEEK[])` for a sequence-number FETCH (PEEK: \Seen does not change; the same kind of
//   set as the client's, so the server's rules on EXPUNGE responses stay the ones the client
//   expects; UID in the items gives the key). The set is the client's set without the messages
//   whose verdict is known; explicit sets of up to `peekSetLimit` messages are expanded for that
//   (sequence `*` through the last EXISTS, sequence numbers to UIDs through the mapping learnt
//   from FETCH responses and kept through EXPUNGE), other sets are sent as the client wrote them.
//   The private command's FETCH responses and tagged reply never reach the client; each whole
//   message in them is checked (`checkMessage` with item `BODY[] (private)`), a message over
//   `maxLiteralSize` is read and dropped and remembered as unchecked. A FETCH response during the
//   private command without a whole message (an unsolicited FLAGS update) and every other
//   untagged response (EXISTS, EXPUNGE, ...) are relayed. When the tagged reply is in and every
//   check has answered, the held client bytes are processed as if they had just arrived: the
//   client's command goes out and its partial content is decided from the cache. If the server
//   refuses the private command (NO/BAD, reported `privateFetchRefused`), or does not return a
//   message, its verdict stays unknown: the client's partial fetch is unchecked and
//   BlockUnchecked decides. A FETCH with a literal in it (`HEADER.FIELDS ({4+}...)`) is held like
//   one with a partial item: its items after the literal cannot be seen first (relayed as it
//   was, such a command fetched a part unchecked: MailboxDifferentialTests). A command that also fetches the whole message still gets the private fetch (it is
//   simpler than tying its parts to its own whole item). Commands are never reordered: the
//   server sees the client's commands in the client's order, with the private command in front
//   of the one that needed it; the client sees replies in server order, none of the private
//   ones. A misjudged plan (a sequence number that moved) costs at most an `unchecked` report:
//   content is always decided by the UID in (or mapped from) the response itself.
// - Header-only items (`BODY[HEADER]`, `BODY[HEADER.FIELDS (...)]`, `BODY[1.MIME]`,
//   `RFC822.HEADER`) and strings inside ENVELOPE/BODYSTRUCTURE are relayed without a report.
// - Client uploads (APPEND) are relayed unscanned, literals of every form streamed through.
//
// # Protocol handling
//
// - `COMPRESS=...` is removed from `* CAPABILITY` responses and from `[CAPABILITY ...]` response
//   codes (greeting, tagged OK after LOGIN/AUTHENTICATE): a compressed stream cannot be scanned. A
//   client that sends COMPRESS anyway gets `<tag> NO [CANNOT] ...` from the relay; the command
//   never reaches the server.
// - IDLE: after the command, the client's lines are relayed as data; its `DONE` line ends the
//   idle (`isIdling` turns false) and the client's next bytes are commands again, even before
//   the server's tagged reply. While the client idles the server's untagged responses are
//   handled as always: FETCH responses carrying whole messages are held and checked, partial
//   content decided as above. The core does not run the reply timeout while `isIdling` (the
//   server may stay silent for as long as the client idles); after DONE it does.
// - AUTHENTICATE: the client's lines (SASL responses) are relayed as data until the command's
//   tagged response.
// - SELECT/EXAMINE take effect (mailbox name for cache keys, UIDVALIDITY, sequence mapping) when
//   they become the oldest outstanding command, i.e. when the server gets to them: replies to
//   commands pipelined in front of them are still about the mailbox before. While the server
//   processes a SELECT, EXAMINE, CLOSE or UNSELECT, FETCH responses teach the session nothing
//   and their partial content counts as unknown.
// - Tags: every client command is recorded with its tag and removed when its tagged response
//   arrives (`outstandingTags`). A tagged NO/BAD that refuses a synchronizing literal resets the
//   client parser so the next client bytes start a new command.
// - STARTTLS: forwarded; client bytes after the command line and before the tagged reply are
//   discarded, so are server bytes after a tagged OK. When the OK reached the client,
//   `startTLSPassthrough`: the core relays both legs blindly (UnwrapSsl = No).
// - Limits: a line segment longer than `maxServerLineLength` / `maxClientLineLength` closes the
//   session; literals are never bounded (they are streamed) except that only literals up to
//   `maxLiteralSize` are held. Client bytes held behind a private fetch are bounded by the core,
//   which stops reading the client while `acceptsClientInput` is false.
import NIOCore

/// Identifies a message across sessions: a verdict stays valid for the same UID in a mailbox
/// as long as UIDVALIDITY does not change.
public struct IMAPMessageKey: Hashable, Sendable {
    public var mailbox: String
    public var uidValidity: UInt32
    public var uid: UInt32

    public init(mailbox: String, uidValidity: UInt32, uid: UInt32) {
        self.mailbox = mailbox
        self.uidValidity = uidValidity
        self.uid = uid
    }
}

/// What the session knows about the message a FETCH response is about.
public struct IMAPMessageRef: Sendable, Equatable {
    public var sequence: UInt32?
    public var uid: UInt32?
    /// Mailbox named in the last SELECT/EXAMINE (INBOX upper-cased), nil if none or sent as literal.
    public var mailbox: String?
    public var uidValidity: UInt32?

    public init(sequence: UInt32? = nil, uid: UInt32? = nil, mailbox: String? = nil, uidValidity: UInt32? = nil) {
        self.sequence = sequence
        self.uid = uid
        self.mailbox = mailbox
        self.uidValidity = uidValidity
    }

    public var key: IMAPMessageKey? {
        guard let mailbox, let uidValidity, let uid else { return nil }
        return IMAPMessageKey(mailbox: mailbox, uidValidity: uidValidity, uid: uid)
    }
}

/// What the session knows of a whole message, for its partial fetches.
public enum IMAPKnownVerdict: Sendable, Equatable {
    /// Checked and passed.
    case clean
    /// Checked and replaced (or declared bad by the core).
    case bad
    /// Could not be checked (larger than `maxLiteralSize`).
    case unchecked
}

public struct IMAPRelaySession: Sendable {
    public struct Configuration: Sendable {
        /// Largest literal held for scanning (MaxMessageSize); bigger ones are not scanned.
        public var maxLiteralSize: Int
        /// Longest line segment from the client (command text between literals).
        public var maxClientLineLength: Int
        /// Longest line segment from the server (SEARCH results can be long).
        public var maxServerLineLength: Int
        /// How many message verdicts (clean, bad, unchecked) the session remembers.
        public var verdictCacheSize: Int
        /// Largest number of messages an explicit set is expanded to when planning a private fetch.
        public var peekSetLimit: Int
        /// Client bytes held behind a private fetch above which the core stops reading the client.
        public var maxHeldClientBytes: Int
        /// How much of a message too large to check is kept to build the notice (its header).
        public var noticeHeadSize: Int

        public init(maxLiteralSize: Int = 64 << 20, maxClientLineLength: Int = 256 << 10,
                    maxServerLineLength: Int = 4 << 20, verdictCacheSize: Int = 4096,
                    peekSetLimit: Int = 1000, maxHeldClientBytes: Int = 1 << 20, noticeHeadSize: Int = 64 << 10) {
            self.maxLiteralSize = maxLiteralSize
            self.maxClientLineLength = maxClientLineLength
            self.maxServerLineLength = maxServerLineLength
            self.verdictCacheSize = verdictCacheSize
            self.peekSetLimit = peekSetLimit
            self.maxHeldClientBytes = maxHeldClientBytes
            self.noticeHeadSize = noticeHeadSize
        }
    }

    public enum CloseReason: Sendable, Equatable {
        case clientClosed
        case serverClosed
        case clientLineTooLong(limit: Int)
        case serverLineTooLong(limit: Int)
    }

    public enum Action: Sendable, Equatable {
        case sendToServer(ByteBuffer)
        case sendToClient(ByteBuffer)
        /// Scan `message` and answer with `checkFinished(id:verdict:)`. `item` is the fetch item
        /// as the server named it (`BODY[]`, `RFC822`, `BINARY[]`), or `BODY[] (private)` for a
        /// message of the session's own private fetch.
        case checkMessage(id: MailCheckID, message: [UInt8], ref: IMAPMessageRef, item: String)
        /// A message could not be checked and BlockUnchecked is on: answer with
        /// `checkFinished(id:, .deliver(notice))`, a notice built from `head` (the message's first
        /// bytes, for its header).
        case replaceUnchecked(id: MailCheckID, head: [UInt8], reason: MailUncheckedReason, ref: IMAPMessageRef)
        /// Content reached the client without a scan.
        case unchecked(MailUncheckedReason, ref: IMAPMessageRef)
        /// Content that could not be checked was delivered empty (BlockUnchecked).
        case withheld(MailUncheckedReason, ref: IMAPMessageRef)
        /// The server refused the private fetch (`status` is its tagged reply's first word).
        case privateFetchRefused(command: String, status: String)
        /// STARTTLS accepted: relay both legs untouched from now on.
        case startTLSPassthrough
        /// Bytes injected around STARTTLS were dropped.
        case injectionDiscarded(from: RelayPeer, byteCount: Int)
        case close(CloseReason)
    }

    enum State: Sendable, Equatable {
        case relaying
        case awaitingSTARTTLSReply(tag: String)
        case stlsAccepted
        case passthrough
        case closed
    }

    /// A literal kept in the output queue until its verdict.
    struct HeldLiteral: Sendable {
        var markerBytes: ByteBuffer  // the original marker with its line ending
        var marker: IMAPLiteralMarker
        var literal: ByteBuffer
        var role: IMAPFetchLiteralRole
    }

    enum ResponseKind: Sendable {
        case continuation
        case fetch(IMAPFetchTracker)
        case status(tag: String?, status: String)
        case exists(UInt32)
        case expunge(UInt32)
        case vanished
        case other
    }

    enum LiteralSink: Sendable {
        case stream
        /// Dropped: an empty literal is already queued in its place, or it is a private message
        /// too large to check.
        case discard
        case hold(MailCheckID, markerBytes: ByteBuffer, marker: IMAPLiteralMarker, literal: ByteBuffer, role: IMAPFetchLiteralRole)
        /// Too large and BlockUnchecked: the head is kept for the notice, the slot is queued.
        case head(MailCheckID, ByteBuffer)
        /// The whole message of a private FETCH response.
        case privateMessage(ByteBuffer)
        /// Another literal inside a FETCH response during the private command.
        case privateText
    }

    struct ServerResponse: Sendable {
        var kind: ResponseKind
        var sink: LiteralSink?
        var holds: [(MailCheckID, IMAPFetchLiteralRole)] = []
        var reports: [(reason: MailUncheckedReason, withheld: Bool)] = []
        var replacements: [(MailCheckID, [UInt8])] = []
        var tooLargeWhole = false
        /// A FETCH response that arrived while the private command ran.
        var isPrivate = false
        var privateText = ByteBuffer()
        var privateWhole = false
        /// Message content (a part, a range, an unknown item) that nobody asked for arrived in an
        /// unsolicited FETCH during the private command: the response is not relayed, since the
        /// partial-content decision was never made for it.
        var privateContent = false
        var privateMessage: ByteBuffer?
    }

    struct ClientCommand: Sendable {
        var tag: String
        var name: String
        var swallow: Bool
    }

    /// A client FETCH that needs the private fetch first.
    struct PeekRequest: Sendable, Equatable {
        var uid: Bool
        var set: String
    }

    enum Peek: Sendable, Equatable {
        case none
        /// The client's command is held; earlier client commands are still outstanding.
        case waiting(PeekRequest)
        /// The private command is out.
        case running(tag: String, command: String)
        /// Its tagged reply is in; checks of its messages are outstanding.
        case checking
    }

    public let configuration: Configuration
    /// BlockUnchecked of the check profile: what happens to content that cannot be checked.
    public var blockUnchecked = false
    private(set) var state: State = .relaying
    private var clientFramer: IMAPFramer
    private var serverFramer: IMAPFramer
    private var clientCommand: ClientCommand?
    /// Tag of an IDLE/AUTHENTICATE in progress: client lines are data until its end.
    private var rawLineTag: String?
    /// Tag of an IDLE whose DONE has not been sent yet.
    private var idleTag: String?
    private var pending: [(tag: String, name: String)] = []
    private var localReplies: [ByteBuffer] = []
    private var response: ServerResponse?
    private var output = OrderedRelayOutput<HeldLiteral>()
    private var nextCheck: UInt64 = 1
    private var serverEOF = false
    private var selectedMailbox: String?
    private var selectedUIDValidity: UInt32?
    /// A SELECT/EXAMINE succeeded and no CLOSE/UNSELECT followed.
    private var mailboxOpen = false
    /// Counts selections: stands in for the mailbox name in cache keys when it is unknown.
    private var selection = 0
    private var messageCount: UInt32?
    private var sequenceUIDs: [UInt32: UInt32] = [:]
    private var verdicts: [IMAPMessageKey: IMAPKnownVerdict] = [:]
    private var verdictOrder = CircularBuffer<IMAPMessageKey>()
    private var heldKeys: [MailCheckID: IMAPMessageKey] = [:]
    private var peek = Peek.none
    private var heldClientInput = ByteBuffer()
    private var peekBypass = false
    private var nextPeekTag = 1
    private var privateChecks: [MailCheckID: (key: IMAPMessageKey?, size: Int)] = [:]
    private var privateCheckBytes = 0

    static let sequenceMapLimit = 10_000

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        clientFramer = IMAPFramer(direction: .fromClient, maxLineLength: configuration.maxClientLineLength)
        serverFramer = IMAPFramer(direction: .fromServer, maxLineLength: configuration.maxServerLineLength)
    }

    /// Tags of client commands still waiting for their tagged response, oldest first.
    public var outstandingTags: [String] { pending.map(\.tag) }

    /// Bytes held on behalf of the client; the core can stop reading from the server while high.
    /// Messages of the private fetch count until their verdict.
    public var bufferedBytes: Int {
        var held = 0
        switch response?.sink {
        case .hold(_, _, _, let literal, _)?: held = literal.readableBytes
        case .head(_, let head)?: held = head.readableBytes
        case .privateMessage(let message)?: held = message.readableBytes
        default: break
        }
        held += response?.privateText.readableBytes ?? 0
        return output.bufferedBytes + serverFramer.bufferedBytes + clientFramer.bufferedBytes + held + privateCheckBytes
    }

    /// False while the client bytes held behind a private fetch are many: the core stops reading
    /// the client.
    public var acceptsClientInput: Bool { heldClientInput.readableBytes < configuration.maxHeldClientBytes }

    /// True while the client is in IDLE (between `IDLE` and its `DONE`).
    public var isIdling: Bool { idleTag != nil }

    /// True while the server owes a reply: a client command other than an IDLE in progress, or
    /// the private fetch. The core runs its reply timeout then.
    public var awaitsServerReply: Bool {
        if case .running = peek { return true }
        return !pending.isEmpty && !isIdling
    }

    /// True while a private fetch holds the client's commands back.
    public var isPeeking: Bool { peek != .none }

    /// The verdict the session knows for a message.
    public func knownVerdict(_ key: IMAPMessageKey) -> IMAPKnownVerdict? { verdicts[key] }

    // MARK: Events

    /// The core knows from its verdict cache that this message is bad: partial fetches of it get
    /// empty content.
    public mutating func noteBlocked(_ key: IMAPMessageKey) {
        record(key, .bad)
    }

    public mutating func clientBytes(_ bytes: ByteBuffer) -> [Action] {
        switch state {
        case .closed:
            return []
        case .passthrough:
            return [.sendToServer(bytes)]
        case .awaitingSTARTTLSReply, .stlsAccepted:
            return bytes.readableBytes > 0 ? [.injectionDiscarded(from: .client, byteCount: bytes.readableBytes)] : []
        case .relaying:
            break
        }
        if peek != .none {
            var bytes = bytes
            heldClientInput.writeBuffer(&bytes)
            return []
        }
        var actions: [Action] = []
        if let reason = feedClient(bytes, &actions) { return close(actions, reason) }
        return flush(actions)
    }

    public mutating func serverBytes(_ bytes: ByteBuffer) -> [Action] {
        switch state {
        case .closed:
            return []
        case .passthrough:
            return [.sendToClient(bytes)]
        case .stlsAccepted:
            return bytes.readableBytes > 0 ? [.injectionDiscarded(from: .server, byteCount: bytes.readableBytes)] : []
        case .relaying, .awaitingSTARTTLSReply:
            break
        }
        serverFramer.append(bytes)
        var actions: [Action] = []
        while state != .stlsAccepted && state != .closed {
            let event: IMAPFramer.Event?
            do { event = try serverFramer.next() } catch {
                if case .lineTooLong(let limit) = error { return close(actions, .serverLineTooLong(limit: limit)) }
                return close(actions, .serverLineTooLong(limit: configuration.maxServerLineLength))
            }
            guard let event else { break }
            switch event {
            case .segment(let segment, let textLength, let literal, let first):
                if let reason = serverSegment(segment, textLength: textLength, literal: literal, first: first, actions: &actions) {
                    return close(actions, reason)
                }
            case .literalBytes(var chunk):
                let sink = response?.sink
                if sink != nil { response!.sink = nil }
                switch sink {
                case .hold(let id, let markerBytes, let marker, var literal, let role):
                    literal.writeBuffer(&chunk)
                    response!.sink = .hold(id, markerBytes: markerBytes, marker: marker, literal: literal, role: role)
                case .head(let id, var head):
                    let room = configuration.noticeHeadSize - head.readableBytes
                    if room > 0, let slice = chunk.readSlice(length: min(room, chunk.readableBytes)) {
                        var slice = slice
                        head.writeBuffer(&slice)
                    }
                    response!.sink = .head(id, head)
                case .privateMessage(var message):
                    message.writeBuffer(&chunk)
                    response!.sink = .privateMessage(message)
                case .privateText:
                    response!.privateText.writeBuffer(&chunk)
                    response!.sink = .privateText
                case .discard:
                    response!.sink = .discard
                case .stream:
                    output.append(chunk)
                    response!.sink = .stream
                case nil:
                    output.append(chunk)
                }
            case .literalEnd:
                switch response?.sink {
                case .hold(let id, let markerBytes, let marker, let literal, let role)?:
                    output.hold(id, HeldLiteral(markerBytes: markerBytes, marker: marker, literal: literal, role: role))
                    response!.holds.append((id, role))
                case .head(let id, let head)?:
                    response!.replacements.append((id, Array(head.readableBytesView)))
                case .privateMessage(let message)?:
                    response!.privateMessage = message
                default:
                    break
                }
                response?.sink = nil
            }
        }
        if state == .stlsAccepted {
            let rest = serverFramer.takeAll()
            if rest.readableBytes > 0 {
                actions.append(.injectionDiscarded(from: .server, byteCount: rest.readableBytes))
            }
        }
        return flush(actions)
    }

    public mutating func checkFinished(id: MailCheckID, verdict: MailCheckVerdict) -> [Action] {
        if let check = privateChecks.removeValue(forKey: id) {
            privateCheckBytes -= check.size
            if let key = check.key {
                if case .deliver = verdict { record(key, .bad) } else { record(key, .clean) }
            }
            guard state != .closed else { return [] }
            var actions: [Action] = []
            if let reason = resumeAfterPeek(&actions) { return close(actions, reason) }
            return flush(actions)
        }
        guard state != .closed, let held = output.held(id) else { return [] }
        var bytes = ByteBuffer()
        switch verdict {
        case .pass:
            var marker = held.markerBytes
            var literal = held.literal
            bytes.writeBuffer(&marker)
            bytes.writeBuffer(&literal)
            if let key = heldKeys[id] { record(key, .clean) }
        case .deliver(let replacement):
            bytes.writeBytes(IMAPLiteralMarker(length: replacement.count, binary: held.marker.binary).wireBytes)
            bytes.writeBytes(replacement)
            if let key = heldKeys[id] { record(key, .bad) }
        }
        heldKeys[id] = nil
        _ = output.resolve(id, with: bytes)
        return flush([])
    }

    /// The server closed its side: complete responses waiting for a verdict are still delivered;
    /// a partly received response is dropped (`unchecked(.truncatedByServer)` if it held a message).
    /// Client commands held behind a private fetch are dropped.
    public mutating func serverClosed() -> [Action] {
        guard state != .closed else { return [] }
        if state == .passthrough {
            state = .closed
            return [.close(.serverClosed)]
        }
        serverEOF = true
        var actions: [Action] = []
        if let response {
            switch response.sink {
            case .hold?, .head?: actions.append(.unchecked(.truncatedByServer, ref: ref(for: response)))
            default: break
            }
            // Held literals of the unfinished response must not go out unscanned.
            for (id, _) in response.holds { _ = output.resolve(id, with: ByteBuffer()) }
            if case .head(let id, _)? = response.sink { _ = output.resolve(id, with: ByteBuffer()) }
            for (id, _) in response.replacements { _ = output.resolve(id, with: ByteBuffer()) }
        }
        response = nil
        heldClientInput.clear()
        return flush(actions)
    }

    public mutating func clientClosed() -> [Action] {
        guard state != .closed else { return [] }
        state = .closed
        output.removeAll()
        return [.close(.clientClosed)]
    }

    // MARK: Client side

    /// Frames and forwards client bytes; stops at a command that needs a private fetch (the
    /// rest is held). Returns a reason when the session must close.
    private mutating func feedClient(_ bytes: ByteBuffer, _ actions: inout [Action]) -> CloseReason? {
        clientFramer.append(bytes)
        var forward = ByteBuffer()
        defer { if forward.readableBytes > 0 { actions.append(.sendToServer(forward)) } }
        while state == .relaying {
            let event: IMAPFramer.Event?
            do { event = try clientFramer.next() } catch {
                if case .lineTooLong(let limit) = error { return .clientLineTooLong(limit: limit) }
                return .clientLineTooLong(limit: configuration.maxClientLineLength)
            }
            guard let event else { break }
            switch event {
            case .segment(var segment, let textLength, let literal, let first):
                let text = segment.getBytes(at: segment.readerIndex, length: textLength) ?? []
                if first && rawLineTag == nil {
                    if peekBypass {
                        peekBypass = false
                    } else if let request = Self.peekRequest(text, assumePartial: literal != nil), needsPeek(request) {
                        // This command and all after it wait for the private fetch.
                        heldClientInput = segment
                        var rest = clientFramer.takeAll()
                        heldClientInput.writeBuffer(&rest)
                        if forward.readableBytes > 0 {
                            actions.append(.sendToServer(forward))
                            forward.clear()
                        }
                        peek = .waiting(request)
                        startPeekIfReady(&actions)
                        return nil
                    }
                    startClientCommand(text, actions: &actions)
                } else if first, let idle = idleTag, rawLineTag == idle, literal == nil,
                          String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespaces).uppercased() == "DONE" {
                    // DONE ends the idle: the client's next bytes are commands.
                    idleTag = nil
                    rawLineTag = nil
                }
                if clientCommand?.swallow != true { forward.writeBuffer(&segment) }
                if literal == nil { clientCommand = nil }
                if case .awaitingSTARTTLSReply = state {
                    let rest = clientFramer.takeAll()
                    if rest.readableBytes > 0 {
                        actions.append(.injectionDiscarded(from: .client, byteCount: rest.readableBytes))
                    }
                }
            case .literalBytes(var chunk):
                if clientCommand?.swallow != true { forward.writeBuffer(&chunk) }
            case .literalEnd:
                break
            }
        }
        return nil
    }

    private mutating func startClientCommand(_ text: [UInt8], actions: inout [Action]) {
        let tokens = IMAPTokenizer.tokenize(text)
        func word(_ i: Int) -> String? {
            guard i < tokens.count else { return nil }
            switch tokens[i] {
            case .atom(let a): return a
            case .quoted(let q): return String(decoding: q, as: UTF8.self)
            default: return nil
            }
        }
        guard let tag = word(0) else {
            clientCommand = nil
            return
        }
        var name = word(1)?.uppercased() ?? ""
        var argumentIndex = 2
        if name == "UID", let sub = word(2) {
            name = "UID " + sub.uppercased()
            argumentIndex = 3
        }
        clientCommand = ClientCommand(tag: tag, name: name, swallow: false)
        if pending.contains(where: { $0.tag == tag }) {
            // A tag already in flight: the server's replies could not be told apart (the tagged
            // reply of the first could end a STARTTLS of the second, say). RFC 9051 2.2.1.
            clientCommand?.swallow = true
            var reply = ByteBuffer()
            reply.writeString("\(tag) BAD Tag already in use by a command in progress\r\n")
            localReplies.append(reply)
            return
        }
        switch name {
        case "COMPRESS":
            clientCommand?.swallow = true
            var reply = ByteBuffer()
            reply.writeString("\(tag) NO [CANNOT] Compression is not available through this gateway\r\n")
            localReplies.append(reply)
            return
        case "URLFETCH", "GENURLAUTH", "RESETKEY":
            // URLAUTH (RFC 4467): URLFETCH returns message content in `* URLFETCH`, not FETCH.
            clientCommand?.swallow = true
            var reply = ByteBuffer()
            reply.writeString("\(tag) NO [CANNOT] URLAUTH is not available through this gateway\r\n")
            localReplies.append(reply)
            return
        case "STARTTLS":
            state = .awaitingSTARTTLSReply(tag: tag)
        case "IDLE":
            rawLineTag = tag
            idleTag = tag
        case "AUTHENTICATE":
            rawLineTag = tag
        case "SELECT", "EXAMINE":
            var mailbox = word(argumentIndex)  // nil when sent as a literal: unknown
            if mailbox?.uppercased() == "INBOX" { mailbox = "INBOX" }
            selectTargets[tag] = .some(mailbox)
        default:
            break
        }
        pending.append((tag, name))
        startSelectionIfFirst()
    }

    /// Mailboxes named by outstanding SELECT/EXAMINE commands, by tag.
    private var selectTargets: [String: String?] = [:]

    /// A SELECT/EXAMINE takes effect when the server gets to it: when it is the oldest
    /// outstanding command (responses to the commands before it are about the mailbox before).
    /// It closes the mailbox selected before, whatever its outcome.
    private mutating func startSelectionIfFirst() {
        guard let head = pending.first, let target = selectTargets.removeValue(forKey: head.tag) else { return }
        selectedMailbox = target
        closeMailbox()
        selection += 1
    }

    // MARK: Private fetch

    /// A `FETCH`/`UID FETCH` asking for partial content: its set. Nil for anything else.
    /// `assumePartial`: the command goes on after a literal (`{4+}` inside HEADER.FIELDS, say),
    /// so its items cannot all be seen here: it is taken to ask for partial content.
    static func peekRequest(_ text: [UInt8], assumePartial: Bool = false) -> PeekRequest? {
        let tokens = IMAPTokenizer.tokenize(text)
        var words: [String] = []
        for token in tokens.prefix(4) {
            guard case .atom(let a) = token else { break }
            words.append(a)
        }
        guard words.count >= 3 else { return nil }
        var uid = false
        var setIndex = 2
        switch words[1].uppercased() {
        case "FETCH": break
        case "UID":
            guard words[2].uppercased() == "FETCH", words.count >= 4 else { return nil }
            uid = true
            setIndex = 3
        default: return nil
        }
        let set = words[setIndex]
        guard !set.isEmpty, set.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ",")
            || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "$") }) else { return nil }
        // The items: one atom, or the first parenthesised list after the set.
        var items: [String] = []
        var depth = 0
        for token in tokens.dropFirst(setIndex + 1) {
            switch token {
            case .listOpen:
                depth += 1
            case .listClose:
                depth -= 1
            case .atom(let a):
                if depth <= 1 { items.append(a) }
            case .quoted:
                break
            }
            if depth == 0 { break }
        }
        let partial = assumePartial || items.contains {
            if case .partialContent = IMAPFetchLiteralRole.classify(item: $0) { return true }
            return false
        }
        return partial ? PeekRequest(uid: uid, set: set) : nil
    }

    /// Whether the request must wait: messages of unknown verdict, or a selection change on the
    /// way that the current state cannot judge.
    private func needsPeek(_ request: PeekRequest) -> Bool {
        selectionChanging || plan(request) != nil
    }

    /// The set for the private command, nil when nothing is to be fetched.
    private func plan(_ request: PeekRequest) -> String? {
        guard mailboxOpen else { return nil }
        guard let numbers = expand(request.set, uid: request.uid) else { return request.set }
        let unknown = numbers.filter { number in
            let uid = request.uid ? number : sequenceUIDs[number]
            guard let uid else { return true }
            return verdicts[cacheKey(uid)] == nil
        }
        return unknown.isEmpty ? nil : Self.compress(unknown)
    }

    /// The numbers of an explicit set (sequence `*` is the last EXISTS), nil when it cannot be
    /// expanded or is larger than `peekSetLimit`.
    private func expand(_ set: String, uid: Bool) -> [UInt32]? {
        var numbers = Set<UInt32>()
        for part in set.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: ":", omittingEmptySubsequences: false)
            guard ends.count == 1 || ends.count == 2 else { return nil }
            var values: [UInt32] = []
            for end in ends {
                if end == "*" {
                    guard !uid, let count = messageCount, count > 0 else { return nil }
                    values.append(count)
                } else {
                    guard let value = UInt32(end), value > 0 else { return nil }
                    values.append(value)
                }
            }
            let low = values.min()!, high = values.max()!
            guard Int(high - low) < configuration.peekSetLimit else { return nil }
            for value in low...high { numbers.insert(value) }
            if numbers.count > configuration.peekSetLimit { return nil }
        }
        return numbers.sorted()
    }

    /// `[1, 2, 3, 7]` → `1:3,7`.
    static func compress(_ numbers: [UInt32]) -> String {
        var parts: [String] = []
        var index = 0
        while index < numbers.count {
            var end = index
            while end + 1 < numbers.count, numbers[end + 1] == numbers[end] + 1 { end += 1 }
            parts.append(end == index ? "\(numbers[index])" : "\(numbers[index]):\(numbers[end])")
            index = end + 1
        }
        return parts.joined(separator: ",")
    }

    /// Sends the private command once no client command is outstanding, or resumes at once when
    /// nothing needs fetching any more.
    private mutating func startPeekIfReady(_ actions: inout [Action]) {
        guard case .waiting(let request) = peek, pending.isEmpty else { return }
        guard let set = plan(request) else {
            peek = .checking
            if let reason = resumeAfterPeek(&actions) { pendingClose = reason }
            return
        }
        let tag = "moat.\(nextPeekTag)"
        nextPeekTag += 1
        let command = "\(request.uid ? "UID " : "")FETCH \(set) (UID BODY.PEEK[])"
        actions.append(.sendToServer(ByteBuffer(string: "\(tag) \(command)\r\n")))
        peek = .running(tag: tag, command: command)
    }

    /// A close decided while resuming from the server side.
    private var pendingClose: CloseReason?

    /// When the private fetch is complete (tagged reply in, every check answered), the held
    /// client bytes are processed as if they had just arrived.
    private mutating func resumeAfterPeek(_ actions: inout [Action]) -> CloseReason? {
        guard peek == .checking, privateChecks.isEmpty, state == .relaying else { return nil }
        peek = .none
        let input = heldClientInput
        heldClientInput = ByteBuffer()
        peekBypass = true
        return feedClient(input, &actions)
    }

    // MARK: Server side

    private mutating func serverSegment(_ segment: ByteBuffer, textLength: Int, literal: IMAPLiteralMarker?,
                                        first: Bool, actions: inout [Action]) -> CloseReason? {
        let text = segment.getSlice(at: segment.readerIndex, length: textLength)!
        if first || response == nil {
            var new = ServerResponse(kind: classify(text))
            if case .fetch = new.kind, case .running = peek { new.isPrivate = true }
            response = new
        }
        var segment = segment
        switch response!.kind {
        case .status(let tag, let status):
            if first, tag == nil, status == "OK",
               let value = Self.responseCodeNumber("UIDVALIDITY", in: String(buffer: text)) {
                selectedUIDValidity = value  // of the mailbox being selected
            }
            if case .running(let privateTag, _) = peek, tag == privateTag {
                // The private command's tagged reply: never relayed.
                finishResponse(&actions)
                return takePendingClose()
            }
            if first, let stripped = IMAPCapabilityFilter.strip(line: Array(segment.readableBytesView)) {
                segment = ByteBuffer(bytes: stripped)
            }
        case .other:
            if first, let stripped = IMAPCapabilityFilter.strip(line: Array(segment.readableBytesView)) {
                segment = ByteBuffer(bytes: stripped)
            }
        case .continuation, .fetch, .exists, .expunge, .vanished:
            break
        }
        var role: IMAPFetchLiteralRole? = nil
        if case .fetch(var tracker) = response!.kind {
            role = tracker.consume(IMAPTokenizer.tokenize(text.readableBytesView), endsWithLiteral: literal != nil)
            response!.kind = .fetch(tracker)
        }
        if response!.isPrivate {
            privateSegment(segment, literal: literal, role: role, actions: &actions)
            return takePendingClose()
        }
        guard let literal else {
            output.append(segment)
            finishResponse(&actions)
            return takePendingClose()
        }
        let fits = literal.length <= configuration.maxLiteralSize
        let empty = ByteBuffer(bytes: IMAPLiteralMarker(length: 0, binary: literal.binary).wireBytes)
        switch role {
        case .wholeMessage?:
            if fits {
                let id = newCheckID()
                output.append(text)
                let markerBytes = segment.getSlice(at: segment.readerIndex + textLength, length: segment.readableBytes - textLength)!
                response!.sink = .hold(id, markerBytes: markerBytes, marker: literal, literal: ByteBuffer(), role: role!)
            } else if blockUnchecked {
                // Read and dropped; the notice takes its place.
                let id = newCheckID()
                output.append(text)
                output.hold(id, HeldLiteral(markerBytes: empty, marker: literal, literal: ByteBuffer(), role: role!))
                response!.sink = .head(id, ByteBuffer())
                response!.tooLargeWhole = true
            } else {
                output.append(segment)
                response!.sink = .stream
                response!.reports.append((.tooLarge(limit: configuration.maxLiteralSize), false))
                response!.tooLargeWhole = true
            }
        case .partialContent(let item)?:
            let known = currentUID().flatMap { verdicts[cacheKey($0)] }
            switch known {
            case .clean?:
                output.append(segment)
                response!.sink = .stream
            case .bad?:
                output.append(text)
                output.append(empty)
                response!.sink = .discard
            case nil where fits:
                // The UID may come after the literal: decided when the response is complete.
                let id = newCheckID()
                output.append(text)
                let markerBytes = segment.getSlice(at: segment.readerIndex + textLength, length: segment.readableBytes - textLength)!
                response!.sink = .hold(id, markerBytes: markerBytes, marker: literal, literal: ByteBuffer(), role: role!)
            case .unchecked?, nil:
                response!.reports.append((.partialFetch(item: item), blockUnchecked))
                if blockUnchecked {
                    output.append(text)
                    output.append(empty)
                    response!.sink = .discard
                } else {
                    output.append(segment)
                    response!.sink = .stream
                }
            }
        default:
            output.append(segment)
            response!.sink = .stream
        }
        return nil
    }

    private mutating func takePendingClose() -> CloseReason? {
        defer { pendingClose = nil }
        return pendingClose
    }

    /// A segment of a FETCH response during the private command. Its whole message goes to the
    /// check; a response without one (an unsolicited update) is relayed when complete.
    private mutating func privateSegment(_ segment: ByteBuffer, literal: IMAPLiteralMarker?, role: IMAPFetchLiteralRole?,
                                         actions: inout [Action]) {
        guard let literal else {
            var segment = segment
            response!.privateText.writeBuffer(&segment)
            finishResponse(&actions)
            return
        }
        if case .wholeMessage? = role {
            response!.privateWhole = true
            response!.sink = literal.length <= configuration.maxLiteralSize ? .privateMessage(ByteBuffer()) : .discard
        } else {
            if case .partialContent? = role { response!.privateContent = true }
            var segment = segment
            response!.privateText.writeBuffer(&segment)
            response!.sink = .privateText
        }
    }

    private mutating func newCheckID() -> MailCheckID {
        defer { nextCheck += 1 }
        return MailCheckID(rawValue: nextCheck)
    }

    private func classify(_ text: ByteBuffer) -> ResponseKind {
        let words = text.readableBytesView.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: true)
            .map { String(decoding: $0, as: UTF8.self) }
        guard let first = words.first else { return .other }
        if first.hasPrefix("+") { return .continuation }
        let second = words.count > 1 ? words[1].uppercased() : ""
        if ["OK", "NO", "BAD", "BYE", "PREAUTH"].contains(second) {
            return .status(tag: first == "*" ? nil : first, status: second)
        }
        guard first == "*" else { return .other }
        if second == "VANISHED" { return .vanished }
        if words.count > 2, let number = UInt32(words[1]) {
            switch words[2].uppercased() {
            case "FETCH": return .fetch(IMAPFetchTracker())
            case "EXISTS": return .exists(number)
            case "EXPUNGE": return .expunge(number)
            default: break
            }
        }
        return .other
    }

    /// A SELECT, EXAMINE, CLOSE or UNSELECT is outstanding.
    private var selectionChanging: Bool {
        pending.contains { ["SELECT", "EXAMINE", "CLOSE", "UNSELECT"].contains($0.name) }
    }

    /// The server is processing a SELECT, EXAMINE, CLOSE or UNSELECT: a FETCH response now may
    /// be about either mailbox.
    private var selectionInProgress: Bool {
        pending.first.map { ["SELECT", "EXAMINE", "CLOSE", "UNSELECT"].contains($0.name) } ?? false
    }

    /// The UID of the FETCH response being read, from the response or the sequence mapping.
    private func currentUID() -> UInt32? {
        guard !selectionInProgress, case .fetch(let tracker) = response?.kind else { return nil }
        return tracker.uid ?? tracker.sequence.flatMap { sequenceUIDs[$0] }
    }

    private func ref(for response: ServerResponse) -> IMAPMessageRef {
        var ref = IMAPMessageRef(mailbox: selectedMailbox, uidValidity: selectedUIDValidity)
        if case .fetch(let tracker) = response.kind {
            ref.sequence = tracker.sequence
            ref.uid = tracker.uid ?? tracker.sequence.flatMap { sequenceUIDs[$0] }
        }
        return ref
    }

    /// The session's cache key: the real key when the mailbox and UIDVALIDITY are known, else one
    /// that is valid for the current selection only.
    private func cacheKey(_ uid: UInt32) -> IMAPMessageKey {
        IMAPMessageKey(mailbox: selectedMailbox ?? "\u{0}selection \(selection)", uidValidity: selectedUIDValidity ?? 0, uid: uid)
    }

    private mutating func record(_ key: IMAPMessageKey, _ verdict: IMAPKnownVerdict) {
        if verdicts.updateValue(verdict, forKey: key) != nil { return }
        verdictOrder.append(key)
        while verdictOrder.count > configuration.verdictCacheSize {
            verdicts.removeValue(forKey: verdictOrder.removeFirst())
        }
    }

    private mutating func finishResponse(_ actions: inout [Action]) {
        guard let done = response else { return }
        response = nil
        let ref = ref(for: done)
        // While a selection changes, a response may be about either mailbox: nothing is learnt.
        let selecting = selectionInProgress
        let key = selecting ? nil : ref.uid.map { cacheKey($0) }
        switch done.kind {
        case .fetch(let tracker):
            if !selecting, let sequence = tracker.sequence, let uid = tracker.uid {
                if sequenceUIDs.count >= Self.sequenceMapLimit { sequenceUIDs.removeAll() }
                sequenceUIDs[sequence] = uid
            }
        case .exists(let count):
            messageCount = count
        case .expunge(let sequence):
            var shifted: [UInt32: UInt32] = [:]
            for (number, uid) in sequenceUIDs where number != sequence {
                shifted[number > sequence ? number - 1 : number] = uid
            }
            sequenceUIDs = shifted
            if let count = messageCount, count > 0 { messageCount = count - 1 }
        case .vanished:
            sequenceUIDs.removeAll()
            messageCount = nil
        default:
            break
        }
        if done.isPrivate {
            if !done.privateWhole {
                // Not ours: an unsolicited FETCH, relayed unless it carries content unasked.
                if !done.privateContent { output.append(done.privateText) }
            } else if let message = done.privateMessage {
                let id = newCheckID()
                privateChecks[id] = (key, message.readableBytes)
                privateCheckBytes += message.readableBytes
                actions.append(.checkMessage(id: id, message: Array(message.readableBytesView), ref: ref, item: "BODY[] (private)"))
            } else if let key, verdicts[key] == nil {
                record(key, .unchecked)  // too large to check
            }
            return
        }
        for (id, role) in done.holds {
            guard let held = output.held(id) else { continue }
            switch role {
            case .wholeMessage(let item):
                if let key { heldKeys[id] = key }
                actions.append(.checkMessage(id: id, message: Array(held.literal.readableBytesView), ref: ref, item: item))
            case .partialContent(let item):
                var bytes = ByteBuffer()
                let known = key.flatMap { verdicts[$0] }
                var empty = known == .bad
                if known != .clean && known != .bad {
                    if blockUnchecked {
                        empty = true
                        actions.append(.withheld(.partialFetch(item: item), ref: ref))
                    } else {
                        actions.append(.unchecked(.partialFetch(item: item), ref: ref))
                    }
                }
                if empty {
                    bytes.writeBytes(IMAPLiteralMarker(length: 0, binary: held.marker.binary).wireBytes)
                } else {
                    var marker = held.markerBytes
                    var literal = held.literal
                    bytes.writeBuffer(&marker)
                    bytes.writeBuffer(&literal)
                }
                _ = output.resolve(id, with: bytes)
            default:
                break
            }
        }
        for (id, head) in done.replacements {
            actions.append(.replaceUnchecked(id: id, head: head, reason: .tooLarge(limit: configuration.maxLiteralSize), ref: ref))
        }
        if done.tooLargeWhole, let key, verdicts[key] == nil { record(key, .unchecked) }
        for report in done.reports {
            actions.append(report.withheld ? .withheld(report.reason, ref: ref) : .unchecked(report.reason, ref: ref))
        }
        if case .status(let tag?, let status) = done.kind {
            if case .running(let privateTag, let command) = peek, privateTag == tag {
                if status != "OK" { actions.append(.privateFetchRefused(command: command, status: status)) }
                peek = .checking
                if let reason = resumeAfterPeek(&actions) { pendingClose = reason }
            } else {
                completeTag(tag, status: status)
                startPeekIfReady(&actions)
            }
        }
        for reply in localReplies { output.append(reply) }
        localReplies.removeAll()
    }

    private mutating func closeMailbox() {
        mailboxOpen = false
        sequenceUIDs.removeAll()
        messageCount = nil
        selectedUIDValidity = nil
    }

    private mutating func completeTag(_ tag: String, status: String) {
        if clientCommand?.tag == tag, clientFramer.isAwaitingLiteral {
            clientFramer.abandonLiteral()
            clientCommand = nil
        }
        if rawLineTag == tag { rawLineTag = nil }
        if idleTag == tag { idleTag = nil }
        guard let index = pending.firstIndex(where: { $0.tag == tag }) else { return }
        // A SELECT answered before it became the oldest outstanding command still takes effect.
        if let target = selectTargets.removeValue(forKey: tag) {
            selectedMailbox = target
            closeMailbox()
            selection += 1
        }
        let command = pending.remove(at: index)
        defer { startSelectionIfFirst() }
        switch command.name {
        case "SELECT", "EXAMINE":
            if status == "OK" {
                mailboxOpen = true
            } else {
                selectedMailbox = nil
                closeMailbox()
            }
        case "CLOSE", "UNSELECT":
            if status == "OK" {
                selectedMailbox = nil
                closeMailbox()
                selection += 1
            }
        default:
            break
        }
        if case .awaitingSTARTTLSReply(let starttlsTag) = state, starttlsTag == tag {
            state = status == "OK" ? .stlsAccepted : .relaying
        }
    }

    static func responseCodeNumber(_ name: String, in text: String?) -> UInt32? {
        guard let text else { return nil }
        let upper = Array(text.uppercased().utf8)
        let needle = Array(("[" + name.uppercased() + " ").utf8)
        guard upper.count >= needle.count else { return nil }
        for start in 0...(upper.count - needle.count) where upper[start..<(start + needle.count)].elementsEqual(needle) {
            let digits = upper[(start + needle.count)...].prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            return UInt32(String(decoding: digits, as: UTF8.self))
        }
        return nil
    }

    // MARK: Output

    /// STARTTLS done and Moat terminates TLS on both legs: relay the session inside, in the
    /// not-authenticated state, with no greeting to come (RFC 9051 6.2.1).
    public mutating func resumeAfterTLS() {
        guard state == .passthrough else { return }
        state = .relaying
        clientFramer = IMAPFramer(direction: .fromClient, maxLineLength: configuration.maxClientLineLength)
        serverFramer = IMAPFramer(direction: .fromServer, maxLineLength: configuration.maxServerLineLength)
        clientCommand = nil
        rawLineTag = nil
        pending.removeAll()
        localReplies.removeAll()
        response = nil
        selectedMailbox = nil
        selectedUIDValidity = nil
        // Nothing learned before TLS counts (RFC 9051 11.1): the session starts unauthenticated.
        idleTag = nil
        mailboxOpen = false
        messageCount = nil
        sequenceUIDs.removeAll()
        verdicts.removeAll()
        verdictOrder.removeAll()
        peek = .none
        heldClientInput = ByteBuffer()
        peekBypass = false
    }

    private mutating func flush(_ actions: [Action]) -> [Action] {
        var actions = actions
        if response == nil && !localReplies.isEmpty {
            for reply in localReplies { output.append(reply) }
            localReplies.removeAll()
        }
        if let ready = output.drain() { actions.append(.sendToClient(ready)) }
        if output.isEmpty {
            if state == .stlsAccepted {
                state = .passthrough
                actions.append(.startTLSPassthrough)
            } else if serverEOF && state != .closed {
                state = .closed
                actions.append(.close(.serverClosed))
            }
        }
        return actions
    }

    private mutating func close(_ actions: [Action], _ reason: CloseReason) -> [Action] {
        var actions = actions
        if let ready = output.drain() { actions.append(.sendToClient(ready)) }
        state = .closed
        output.removeAll()
        actions.append(.close(reason))
        return actions
    }
}
