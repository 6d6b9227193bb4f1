// IMAP relay state machine (no I/O). The Gate core feeds it the bytes read from each leg and
// performs the returned actions in order.
//
// # Scanning policy
//
// - Whole-message fetch items — `BODY[]` (what the server answers to `BODY.PEEK[]`), `RFC822` and
//   `BINARY[]` — whose literal is at most `maxLiteralSize` bytes are held: the response is relayed
//   up to the literal marker, the literal is kept, and when the response is complete the session
//   emits `checkMessage(id:message:ref:item:)`. The verdict `.pass` sends the original marker and
//   bytes; `.deliver(m)` sends `{m.count}` (`~{m.count}` for literal8) and `m`. Whatever followed
//   the literal in the response (FLAGS, UID, more items) follows unchanged. Several whole-message
//   items in one response are checked separately. For `BINARY[]` the scanner gets what the server
//   sent: the message with its transfer encodings already undone.
// - Bigger whole-message literals are relayed as they arrive, reported `unchecked(.tooLarge)`.
// - Partial and per-part content fetches (`BODY[1]`, `BODY[TEXT]`, `BODY[]<0>` — the reply to
//   `BODY[]<0.1024>` —, `RFC822.TEXT`, `BINARY[2]`) are not scanned: a part lacks the context
//   (content type, transfer encoding of its parents) and a byte range is not a file. They are
//   relayed unchanged and reported `unchecked(.partialFetch(item:))` with the message reference
//   (mailbox, UIDVALIDITY, UID when the response carries one), EXCEPT when that message is known to
//   be bad: a message whose whole-message check ended in `.deliver` in this session, or that the
//   core declared with `noteBlocked(_:)` from its own verdict cache keyed by
//   (mailbox, UIDVALIDITY, UID). Partial content of a known-bad message is delivered as an empty
//   literal (`{0}`), so a client that fetches by parts (Thunderbird's chunked download, BODYSTRUCTURE
//   then parts) never gets the infected part once the message is known. To make that hold for a
//   message fetched by parts first, the core can act on `unchecked(.partialFetch)`: fetch the
//   whole message with a private `UID FETCH <uid> BODY.PEEK[]` (PEEK keeps \Seen) on a connection
//   of its own, scan it and call `noteBlocked`; the private in-band PEEK (injecting a proxy-tagged
//   command into this connection and swallowing its output) is not done here.
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
// - IDLE and AUTHENTICATE: after the command, the client's lines (`DONE`, SASL responses) are
//   relayed as data, not parsed as commands, until the command's tagged response.
// - Tags: every client command is recorded with its tag and removed when its tagged response
//   arrives (`outstandingTags`). A tagged NO/BAD that refuses a synchronizing literal resets the
//   client parser so the next client bytes start a new command.
// - STARTTLS: forwarded; client bytes after the command line and before the tagged reply are
//   discarded, so are server bytes after a tagged OK. When the OK reached the client,
//   `startTLSPassthrough`: the core relays both legs blindly (UnwrapSsl = No).
// - Limits: a line segment longer than `maxServerLineLength` / `maxClientLineLength` closes the
//   session; literals are never bounded (they are streamed) except that only literals up to
//   `maxLiteralSize` are held.
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

public struct IMAPRelaySession: Sendable {
    public struct Configuration: Sendable {
        /// Largest literal held for scanning; bigger ones are streamed and reported unchecked.
        public var maxLiteralSize: Int
        /// Longest line segment from the client (command text between literals).
        public var maxClientLineLength: Int
        /// Longest line segment from the server (SEARCH results can be long).
        public var maxServerLineLength: Int
        /// How many known-bad message keys the session remembers.
        public var blockedCacheSize: Int

        public init(maxLiteralSize: Int = 64 << 20, maxClientLineLength: Int = 256 << 10,
                    maxServerLineLength: Int = 4 << 20, blockedCacheSize: Int = 4096) {
            self.maxLiteralSize = maxLiteralSize
            self.maxClientLineLength = maxClientLineLength
            self.maxServerLineLength = maxServerLineLength
            self.blockedCacheSize = blockedCacheSize
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
        /// as the server named it (`BODY[]`, `RFC822`, `BINARY[]`).
        case checkMessage(id: MailCheckID, message: [UInt8], ref: IMAPMessageRef, item: String)
        /// Content reached the client without a scan.
        case unchecked(MailUncheckedReason, ref: IMAPMessageRef)
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
        case other
    }

    enum LiteralSink: Sendable {
        case stream
        case hold(MailCheckID, markerBytes: ByteBuffer, marker: IMAPLiteralMarker, literal: ByteBuffer, role: IMAPFetchLiteralRole)
    }

    struct ServerResponse: Sendable {
        var kind: ResponseKind
        var sink: LiteralSink?
        var holds: [(MailCheckID, IMAPFetchLiteralRole)] = []
        var streamedReports: [MailUncheckedReason] = []
    }

    struct ClientCommand: Sendable {
        var tag: String
        var name: String
        var swallow: Bool
    }

    public let configuration: Configuration
    private(set) var state: State = .relaying
    private var clientFramer: IMAPFramer
    private var serverFramer: IMAPFramer
    private var clientCommand: ClientCommand?
    /// Tag of an IDLE/AUTHENTICATE in progress: client lines are data until its tagged reply.
    private var rawLineTag: String?
    private var pending: [(tag: String, name: String)] = []
    private var localReplies: [ByteBuffer] = []
    private var response: ServerResponse?
    private var output = OrderedRelayOutput<HeldLiteral>()
    private var nextCheck: UInt64 = 1
    private var serverEOF = false
    private var selectedMailbox: String?
    private var selectedUIDValidity: UInt32?
    private var blocked = Set<IMAPMessageKey>()
    private var blockedOrder = CircularBuffer<IMAPMessageKey>()

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        clientFramer = IMAPFramer(direction: .fromClient, maxLineLength: configuration.maxClientLineLength)
        serverFramer = IMAPFramer(direction: .fromServer, maxLineLength: configuration.maxServerLineLength)
    }

    /// Tags of client commands still waiting for their tagged response, oldest first.
    public var outstandingTags: [String] { pending.map(\.tag) }

    /// Bytes held on behalf of the client; the core can stop reading from the server while high.
    public var bufferedBytes: Int {
        var held = 0
        if case .hold(_, _, _, let literal, _) = response?.sink { held = literal.readableBytes }
        return output.bufferedBytes + serverFramer.bufferedBytes + clientFramer.bufferedBytes + held
    }

    /// True while the client is in IDLE (between `IDLE` and the tagged reply after `DONE`).
    public var isIdling: Bool {
        guard let rawLineTag else { return false }
        return pending.first(where: { $0.tag == rawLineTag })?.name == "IDLE"
    }

    // MARK: Events

    /// The core knows from its verdict cache that this message is bad: partial fetches of it get
    /// empty content.
    public mutating func noteBlocked(_ key: IMAPMessageKey) {
        guard !blocked.contains(key) else { return }
        blocked.insert(key)
        blockedOrder.append(key)
        while blockedOrder.count > configuration.blockedCacheSize {
            blocked.remove(blockedOrder.removeFirst())
        }
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
        clientFramer.append(bytes)
        var forward = ByteBuffer()
        var actions: [Action] = []
        loop: while state == .relaying {
            let event: IMAPFramer.Event?
            do { event = try clientFramer.next() } catch {
                if case .lineTooLong(let limit) = error { return close(actions, forward, .clientLineTooLong(limit: limit)) }
                return close(actions, forward, .clientLineTooLong(limit: configuration.maxClientLineLength))
            }
            guard let event else { break }
            switch event {
            case .segment(var segment, let textLength, let literal, let first):
                if first && rawLineTag == nil {
                    let text = segment.getBytes(at: segment.readerIndex, length: textLength) ?? []
                    startClientCommand(text, actions: &actions)
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
        var result: [Action] = forward.readableBytes > 0 ? [.sendToServer(forward)] : []
        result.append(contentsOf: actions)
        return flush(result)
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
                if case .lineTooLong(let limit) = error { return close(actions, nil, .serverLineTooLong(limit: limit)) }
                return close(actions, nil, .serverLineTooLong(limit: configuration.maxServerLineLength))
            }
            guard let event else { break }
            switch event {
            case .segment(let segment, let textLength, let literal, let first):
                serverSegment(segment, textLength: textLength, literal: literal, first: first, actions: &actions)
            case .literalBytes(var chunk):
                switch response?.sink {
                case .hold(let id, let markerBytes, let marker, var literal, let role):
                    response!.sink = nil
                    literal.writeBuffer(&chunk)
                    response!.sink = .hold(id, markerBytes: markerBytes, marker: marker, literal: literal, role: role)
                case .stream, nil:
                    output.append(chunk)
                }
            case .literalEnd:
                if case .hold(let id, let markerBytes, let marker, let literal, let role) = response?.sink {
                    output.hold(id, HeldLiteral(markerBytes: markerBytes, marker: marker, literal: literal, role: role))
                    response!.holds.append((id, role))
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
        guard state != .closed, let held = output.held(id) else { return [] }
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
            if let key = heldKeys[id] { noteBlocked(key) }
        }
        heldKeys[id] = nil
        _ = output.resolve(id, with: bytes)
        return flush([])
    }

    /// The server closed its side: complete responses waiting for a verdict are still delivered;
    /// a partly received response is dropped (`unchecked(.truncatedByServer)` if it held a message).
    public mutating func serverClosed() -> [Action] {
        guard state != .closed else { return [] }
        if state == .passthrough {
            state = .closed
            return [.close(.serverClosed)]
        }
        serverEOF = true
        var actions: [Action] = []
        if let response {
            if case .hold = response.sink { actions.append(.unchecked(.truncatedByServer, ref: ref(for: response))) }
            // Held literals of the unfinished response must not go out unscanned.
            for (id, _) in response.holds { _ = output.resolve(id, with: ByteBuffer()) }
        }
        response = nil
        return flush(actions)
    }

    public mutating func clientClosed() -> [Action] {
        guard state != .closed else { return [] }
        state = .closed
        output.removeAll()
        return [.close(.clientClosed)]
    }

    // MARK: Client side

    private var heldKeys: [MailCheckID: IMAPMessageKey] = [:]

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
        switch name {
        case "COMPRESS":
            clientCommand?.swallow = true
            var reply = ByteBuffer()
            reply.writeString("\(tag) NO [CANNOT] Compression is not available through this gateway\r\n")
            localReplies.append(reply)
            return
        case "STARTTLS":
            state = .awaitingSTARTTLSReply(tag: tag)
        case "IDLE", "AUTHENTICATE":
            rawLineTag = tag
        case "SELECT", "EXAMINE":
            if var mailbox = word(argumentIndex) {
                if mailbox.uppercased() == "INBOX" { mailbox = "INBOX" }
                selectedMailbox = mailbox
            } else {
                selectedMailbox = nil  // sent as a literal: unknown
            }
            selectedUIDValidity = nil
        default:
            break
        }
        pending.append((tag, name))
    }

    // MARK: Server side

    private mutating func serverSegment(_ segment: ByteBuffer, textLength: Int, literal: IMAPLiteralMarker?,
                                        first: Bool, actions: inout [Action]) {
        let text = segment.getSlice(at: segment.readerIndex, length: textLength)!
        if first || response == nil {
            response = ServerResponse(kind: classify(text))
        }
        var segment = segment
        switch response!.kind {
        case .status(let tag, let status):
            if first, tag == nil, status == "OK",
               let value = Self.responseCodeNumber("UIDVALIDITY", in: String(buffer: text)) {
                selectedUIDValidity = value  // of the mailbox being selected
            }
            if first, let stripped = IMAPCapabilityFilter.strip(line: Array(segment.readableBytesView)) {
                segment = ByteBuffer(bytes: stripped)
            }
        case .other:
            if first, let stripped = IMAPCapabilityFilter.strip(line: Array(segment.readableBytesView)) {
                segment = ByteBuffer(bytes: stripped)
            }
        case .continuation, .fetch:
            break
        }
        var role: IMAPFetchLiteralRole? = nil
        if case .fetch(var tracker) = response!.kind {
            role = tracker.consume(IMAPTokenizer.tokenize(text.readableBytesView), endsWithLiteral: literal != nil)
            response!.kind = .fetch(tracker)
        }
        if let literal {
            let fits = literal.length <= configuration.maxLiteralSize
            switch role {
            case .wholeMessage(let item)?, .partialContent(let item)?:
                if fits {
                    let id = MailCheckID(rawValue: nextCheck)
                    nextCheck += 1
                    output.append(text)
                    let markerBytes = segment.getSlice(at: segment.readerIndex + textLength, length: segment.readableBytes - textLength)!
                    response!.sink = .hold(id, markerBytes: markerBytes, marker: literal, literal: ByteBuffer(), role: role!)
                } else {
                    output.append(segment)
                    response!.sink = .stream
                    if case .wholeMessage = role! {
                        response!.streamedReports.append(.tooLarge(limit: configuration.maxLiteralSize))
                    } else {
                        response!.streamedReports.append(.partialFetch(item: item))
                    }
                }
            default:
                output.append(segment)
                response!.sink = .stream
            }
            return
        }
        output.append(segment)
        finishResponse(&actions)
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
        if first == "*", words.count > 2, UInt32(words[1]) != nil, words[2].uppercased() == "FETCH" {
            return .fetch(IMAPFetchTracker())
        }
        return .other
    }

    private func ref(for response: ServerResponse) -> IMAPMessageRef {
        var ref = IMAPMessageRef(mailbox: selectedMailbox, uidValidity: selectedUIDValidity)
        if case .fetch(let tracker) = response.kind {
            ref.sequence = tracker.sequence
            ref.uid = tracker.uid
        }
        return ref
    }

    private mutating func finishResponse(_ actions: inout [Action]) {
        guard let done = response else { return }
        response = nil
        let ref = ref(for: done)
        for (id, role) in done.holds {
            guard let held = output.held(id) else { continue }
            switch role {
            case .wholeMessage(let item):
                if let key = ref.key { heldKeys[id] = key }
                actions.append(.checkMessage(id: id, message: Array(held.literal.readableBytesView), ref: ref, item: item))
            case .partialContent(let item):
                var bytes = ByteBuffer()
                if let key = ref.key, blocked.contains(key) {
                    bytes.writeBytes(IMAPLiteralMarker(length: 0, binary: held.marker.binary).wireBytes)
                } else {
                    var marker = held.markerBytes
                    var literal = held.literal
                    bytes.writeBuffer(&marker)
                    bytes.writeBuffer(&literal)
                    actions.append(.unchecked(.partialFetch(item: item), ref: ref))
                }
                _ = output.resolve(id, with: bytes)
            default:
                break
            }
        }
        for report in done.streamedReports {
            actions.append(.unchecked(report, ref: ref))
        }
        if case .status(let tag?, let status) = done.kind {
            completeTag(tag, status: status)
        }
        for reply in localReplies { output.append(reply) }
        localReplies.removeAll()
    }

    private mutating func completeTag(_ tag: String, status: String) {
        if clientCommand?.tag == tag, clientFramer.isAwaitingLiteral {
            clientFramer.abandonLiteral()
            clientCommand = nil
        }
        if rawLineTag == tag { rawLineTag = nil }
        guard let index = pending.firstIndex(where: { $0.tag == tag }) else { return }
        let command = pending.remove(at: index)
        if (command.name == "SELECT" || command.name == "EXAMINE") && status != "OK" {
            selectedMailbox = nil
            selectedUIDValidity = nil
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

    private mutating func close(_ actions: [Action], _ forward: ByteBuffer?, _ reason: CloseReason) -> [Action] {
        var actions = actions
        if let forward, forward.readableBytes > 0 { actions.insert(.sendToServer(forward), at: 0) }
        if let ready = output.drain() { actions.append(.sendToClient(ready)) }
        state = .closed
        output.removeAll()
        actions.append(.close(reason))
        return actions
    }
}
