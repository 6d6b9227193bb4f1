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
//
// # Composition
//
// The session composes small state machines, each tested on its own: `MailboxConnection`
// (phase with STARTTLS, ordered output, server EOF; shared with POP3), `IMAPCommandTracker`
// (typed client commands, outstanding tags, IDLE/AUTHENTICATE), `IMAPMailboxView` (selected
// mailbox, UIDVALIDITY, sequence-to-UID map), `IMAPVerdictCache`, `IMAPPrivateFetch` (its phase,
// the held client input, its checks) and `IMAPResponseAssembler` (the server response being
// read). This file holds the events; the client side, the server side, complete responses and
// the private fetch's timing are in the extension files named for them.
import NIOCore


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
        /// A client line during an IDLE or AUTHENTICATE that the server had not asked for.
        case clientUnaskedLine(String)
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

    public let configuration: Configuration
    /// BlockUnchecked of the check profile: what happens to content that cannot be checked.
    public var blockUnchecked = false
    /// The connection-wide state: phase (STARTTLS included), ordered output, server EOF.
    var connection = MailboxConnection<IMAPHeldLiteral, Action>()
    var clientFramer: IMAPFramer
    var serverFramer: IMAPFramer
    var commands = IMAPCommandTracker()
    var mailbox = IMAPMailboxView()
    var verdicts: IMAPVerdictCache
    var privateFetch = IMAPPrivateFetch()
    var assembler = IMAPResponseAssembler()
    var nextCheck: UInt64 = 1
    /// A close decided while the held client input was processed from the server side.
    var pendingClose: CloseReason?

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        clientFramer = IMAPFramer(direction: .fromClient, maxLineLength: configuration.maxClientLineLength)
        serverFramer = IMAPFramer(direction: .fromServer, maxLineLength: configuration.maxServerLineLength)
        verdicts = IMAPVerdictCache(capacity: configuration.verdictCacheSize)
    }

    /// Tags of client commands still waiting for their tagged response, oldest first.
    public var outstandingTags: [String] { commands.outstandingTags }

    /// Bytes held on behalf of the client; the core can stop reading from the server while high.
    /// Messages of the private fetch count until their verdict.
    public var bufferedBytes: Int {
        connection.output.bufferedBytes + serverFramer.bufferedBytes + clientFramer.bufferedBytes
            + assembler.bufferedBytes + privateFetch.checkBytes
    }

    /// False while the client bytes held behind a private fetch are many: the core stops reading
    /// the client.
    public var acceptsClientInput: Bool { privateFetch.heldClientInput.readableBytes < configuration.maxHeldClientBytes }

    /// True while the client is in IDLE (between `IDLE` and its `DONE`).
    public var isIdling: Bool { commands.isIdling }

    /// True while the server owes a reply: a client command other than an IDLE in progress, or
    /// the private fetch. The core runs its reply timeout then.
    public var awaitsServerReply: Bool {
        privateFetch.isRunning || (!commands.outstandingTags.isEmpty && !isIdling)
    }

    /// True while a private fetch holds the client's commands back.
    public var isPeeking: Bool { privateFetch.isActive }

    /// The verdict the session knows for a message.
    public func knownVerdict(_ key: IMAPMessageKey) -> IMAPKnownVerdict? { verdicts[key] }

    // MARK: Events

    /// The core knows from its verdict cache that this message is bad: partial fetches of it get
    /// empty content.
    public mutating func noteBlocked(_ key: IMAPMessageKey) {
        verdicts.record(key, .bad)
    }

    public mutating func clientBytes(_ bytes: ByteBuffer) -> [Action] {
        if let screened = connection.screenClient(bytes) { return screened }
        if privateFetch.isActive {
            privateFetch.holdMore(bytes)
            return []
        }
        var actions: [Action] = []
        if let reason = feedClient(bytes, &actions) { return connection.close(actions, reason) }
        return flush(actions)
    }

    public mutating func serverBytes(_ bytes: ByteBuffer) -> [Action] {
        if let screened = connection.screenServer(bytes) { return screened }
        serverFramer.append(bytes)
        var actions: [Action] = []
        while connection.parsesServer {
            let event: IMAPFramer.Event?
            do { event = try serverFramer.next() } catch {
                if case .lineTooLong(let limit) = error { return connection.close(actions, .serverLineTooLong(limit: limit)) }
                return connection.close(actions, .serverLineTooLong(limit: configuration.maxServerLineLength))
            }
            guard let event else { break }
            switch event {
            case .segment(let segment, let textLength, let literal, let first):
                if let reason = serverSegment(segment, textLength: textLength, literal: literal, first: first, actions: &actions) {
                    return connection.close(actions, reason)
                }
            case .literalBytes(let chunk):
                if let streamed = assembler.literalBytes(chunk, headLimit: configuration.noticeHeadSize) {
                    connection.output.append(streamed)
                }
            case .literalEnd:
                if let (id, held) = assembler.literalEnd() { connection.output.hold(id, held) }
            }
        }
        if connection.phase == .tlsAccepted {
            actions += MailboxConnection<IMAPHeldLiteral, Action>.discarded(serverFramer.takeAll(), from: .server)
        }
        return flush(actions)
    }

    public mutating func checkFinished(id: MailCheckID, verdict: MailCheckVerdict) -> [Action] {
        if let check = privateFetch.checkFinished(id) {
            if let key = check.key { verdicts.record(key, verdict) }
            guard connection.isOpen else { return [] }
            var actions: [Action] = []
            if let reason = resumeAfterPrivateFetch(&actions) { return connection.close(actions, reason) }
            return flush(actions)
        }
        guard connection.isOpen, let held = connection.output.held(id) else { return [] }
        var bytes = ByteBuffer()
        switch verdict {
        case .pass:
            var marker = held.markerBytes
            var literal = held.literal
            bytes.writeBuffer(&marker)
            bytes.writeBuffer(&literal)
        case .deliver(let replacement):
            bytes.writeBytes(IMAPLiteralMarker(length: replacement.count, binary: held.marker.binary).wireBytes)
            bytes.writeBytes(replacement)
        }
        verdicts.settle(id, verdict)
        _ = connection.output.resolve(id, with: bytes)
        return flush([])
    }

    /// The server closed its side: complete responses waiting for a verdict are still delivered;
    /// a partly received response is dropped (`unchecked(.truncatedByServer)` if it held a message).
    /// Client commands held behind a private fetch are dropped.
    public mutating func serverClosed() -> [Action] {
        if let settled = connection.serverClosed() { return settled }
        var actions: [Action] = []
        if let response = assembler.finish() {
            switch response.sink {
            case .hold?, .head?: actions.append(.unchecked(.truncatedByServer, ref: ref(for: response)))
            default: break
            }
            // Held literals of the unfinished response must not go out unscanned.
            for (id, _) in response.holds { _ = connection.output.resolve(id, with: ByteBuffer()) }
            if case .head(let id)? = response.sink { _ = connection.output.resolve(id, with: ByteBuffer()) }
            for (id, _) in response.replacements { _ = connection.output.resolve(id, with: ByteBuffer()) }
        }
        privateFetch.dropHeldInput()
        return flush(actions)
    }

    public mutating func clientClosed() -> [Action] {
        connection.clientClosed()
    }

    /// STARTTLS done and Moat terminates TLS on both legs: relay the session inside, in the
    /// not-authenticated state, with no greeting to come (RFC 9051 6.2.1). Nothing learned
    /// before TLS counts (RFC 9051 11.1).
    public mutating func resumeAfterTLS() {
        guard connection.resumeAfterTLS() else { return }
        clientFramer = IMAPFramer(direction: .fromClient, maxLineLength: configuration.maxClientLineLength)
        serverFramer = IMAPFramer(direction: .fromServer, maxLineLength: configuration.maxServerLineLength)
        commands = IMAPCommandTracker()
        _ = assembler.finish()
        mailbox.reset()
        verdicts.removeVerdicts()
        privateFetch.reset()
    }

    /// Queues the relay's own replies once no server response is half read, then flushes.
    mutating func flush(_ actions: [Action]) -> [Action] {
        if assembler.isIdle {
            for reply in commands.takeLocalReplies() { connection.output.append(reply) }
        }
        return connection.flush(actions)
    }

    mutating func newCheckID() -> MailCheckID {
        defer { nextCheck += 1 }
        return MailCheckID(rawValue: nextCheck)
    }
}

extension IMAPRelaySession.Action: MailboxRelayAction {
    public typealias CloseReason = IMAPRelaySession.CloseReason
}

extension IMAPRelaySession.CloseReason: MailboxCloseReason {}
