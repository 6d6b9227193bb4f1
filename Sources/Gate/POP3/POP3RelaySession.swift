// POP3 relay state machine (no I/O). The Gate core feeds it the bytes read from each leg and
// performs the actions it returns, in order.
//
// What it does:
// - Relays the greeting (APOP timestamp included), CAPA, UIDL, LIST, USER/PASS, AUTH exchanges
//   and everything else byte for byte. Commands are forwarded line by line as they complete;
//   replies are matched to commands through a FIFO queue, so pipelined commands (CAPA PIPELINING,
//   RFC 2449) work, and a reply's bytes are never reordered.
// - RETR and TOP replies with body lines (and header-only `TOP n 0` replies too when `scanTop`,
//   the `ScanPop3Top` setting, is on) are held:
//   status line and body are kept, the body is dot-unstuffed and handed out as
//   `checkMessage`. `checkFinished(.pass)` sends the server's bytes unchanged;
//   `checkFinished(.deliver(m))` sends the server's status line followed by `m`, dot-stuffed and
//   terminated. Replies behind a held one wait in order.
// - Octet counts: the server's "+OK <n> octets" line is kept as it was even when the body is
//   replaced. POP3 clients read to the "." line (RFC 1939 calls the count informational), LIST
//   sizes would disagree anyway, and keeping the line keeps the rule simple: one reply, one
//   status line, from the server.
// - A RETR/TOP body bigger than `maxMessageSize` (MaxMessageSize) is not scanned. With
//   `blockUnchecked` off (BlockUnchecked = No) it is relayed as it arrives from the moment the
//   limit is crossed, with `unchecked(.tooLarge)`. With it on, the body is read and dropped: only
//   its first `noticeHeadSize` bytes are kept (for the header), never more than `maxMessageSize`,
//   and at its end the session emits `replaceUnchecked(id:head:reason:command:)`; the core answers
//   `checkFinished(id:, .deliver(notice))` and the client gets the server's status line and the
//   notice, dot-stuffed and terminated. `TOP n 0` with `scanTop` off is relayed unscanned
//   with `unchecked(.topNotScanned)`. (The relay never answers `-ERR` in place of a message: POP3
//   clients mishandle it.)
// - STLS: the command is forwarded; client bytes after the STLS line and before the server's
//   reply are discarded (`injectionDiscarded`), as are server bytes after the `+OK` line. After the
//   `+OK` has reached the client, `startTLSPassthrough` tells the core to stop parsing and relay
//   both legs blindly (UnwrapSsl = No); the session then relays anything it is still given.
//   On `-ERR` the session goes on as before.
import NIOCore

public struct POP3RelaySession: Sendable {
    public struct Configuration: Sendable {
        /// `ScanPop3Top`: hold and scan TOP replies like RETR.
        public var scanTop: Bool
        /// Largest RETR/TOP body (bytes on the wire) held for scanning.
        public var maxMessageSize: Int
        /// Longest client command line (RFC 2449 allows 255; SASL lines are longer).
        public var maxCommandLineLength: Int
        /// Longest server status line.
        public var maxStatusLineLength: Int
        /// How much of a message too large to check is kept to build the notice (its header).
        public var noticeHeadSize: Int

        public init(scanTop: Bool = false, maxMessageSize: Int = 64 << 20,
                    maxCommandLineLength: Int = 16384, maxStatusLineLength: Int = 16384, noticeHeadSize: Int = 64 << 10) {
            self.scanTop = scanTop
            self.maxMessageSize = maxMessageSize
            self.maxCommandLineLength = maxCommandLineLength
            self.maxStatusLineLength = maxStatusLineLength
            self.noticeHeadSize = noticeHeadSize
        }
    }

    /// The command whose reply carried a held or unscanned message.
    public enum MessageCommand: Sendable, Equatable {
        case retr(String)
        case top(String, lines: String)
    }

    public enum CloseReason: Sendable, Equatable {
        case clientClosed
        case serverClosed
        case clientLineTooLong(limit: Int)
        case serverLineTooLong(limit: Int)
        /// NUL or a bare CR in a command.
        case clientProtocolViolation
        /// A reply that is not +OK/-ERR where one is due, or one nobody asked for.
        case serverProtocolViolation
    }

    public enum Action: Sendable, Equatable {
        case sendToServer(ByteBuffer)
        case sendToClient(ByteBuffer)
        /// Scan `message` (dot-unstuffed, as the server stored it) and answer with
        /// `checkFinished(id:verdict:)`.
        case checkMessage(id: MailCheckID, message: [UInt8], command: MessageCommand)
        /// A message reached the client without a scan (for the log and BlockUnchecked counters).
        case unchecked(MailUncheckedReason, command: MessageCommand)
        /// A message could not be checked and BlockUnchecked is on: answer with
        /// `checkFinished(id:, .deliver(notice))`, a notice built from `head` (the message's first
        /// bytes, unstuffed, for its header).
        case replaceUnchecked(id: MailCheckID, head: [UInt8], reason: MailUncheckedReason, command: MessageCommand)
        /// STLS accepted: relay both legs untouched from now on.
        case startTLSPassthrough
        /// Bytes injected around STLS were dropped.
        case injectionDiscarded(from: RelayPeer, byteCount: Int)
        /// Close both legs (after sending whatever was returned before).
        case close(CloseReason)
    }

    enum Expected: Sendable {
        case greeting
        case singleLine
        case multiLine
        /// A reply whose body is held and scanned.
        case scanned(MessageCommand)
        /// TOP without scanning: streamed, reported unchecked.
        case unscannedTop(MessageCommand)
        /// AUTH with a mechanism: "+ " continuations until the final status.
        case auth
        case stls
    }

    enum Body: Sendable {
        case streaming
        case holding(status: ByteBuffer, raw: ByteBuffer, command: MessageCommand)
        /// Too large, BlockUnchecked: the rest is dropped, the head kept for the notice.
        case dropping(status: ByteBuffer, head: ByteBuffer, command: MessageCommand)
    }

    struct Held: Sendable {
        var status: ByteBuffer
        var raw: ByteBuffer  // body as received, terminator included
    }

    public let configuration: Configuration
    /// BlockUnchecked of the check profile: what happens to a message that cannot be checked.
    public var blockUnchecked = false
    /// Phase (STLS included), ordered output and server EOF: the part IMAP shares.
    private var connection = MailboxConnection<Held, Action>()
    private var expected = CircularBuffer<Expected>()
    private var body: Body?
    private var clientDecoder: POP3LineDecoder
    private var framer: POP3ResponseFramer
    private var nextCheck: UInt64 = 1

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        clientDecoder = POP3LineDecoder(maxLineLength: configuration.maxCommandLineLength)
        framer = POP3ResponseFramer(maxStatusLineLength: configuration.maxStatusLineLength)
        expected.append(.greeting)
    }

    /// Bytes the session holds on behalf of the client (queued replies, held messages, partial
    /// frames). The core can stop reading from the server while this is high.
    public var bufferedBytes: Int {
        connection.output.bufferedBytes + framer.bufferedBytes + clientDecoder.bufferedBytes + heldBodyBytes
    }

    private var heldBodyBytes: Int {
        switch body {
        case .holding(let s, let r, _)?: return s.readableBytes + r.readableBytes
        case .dropping(let s, let h, _)?: return s.readableBytes + h.readableBytes
        default: return 0
        }
    }

    /// Number of client commands still waiting for their reply.
    public var outstandingCommands: Int { expected.count }

    // MARK: Events

    public mutating func clientBytes(_ bytes: ByteBuffer) -> [Action] {
        if let screened = connection.screenClient(bytes) { return screened }
        clientDecoder.append(bytes)
        var forward = ByteBuffer()
        var actions: [Action] = []
        while true {
            let line: [UInt8]?
            do { line = try clientDecoder.next() } catch {
                if case .lineTooLong(let limit) = error { return connection.close(actions, .clientLineTooLong(limit: limit)) }
                return connection.close(actions, .clientLineTooLong(limit: configuration.maxCommandLineLength))
            }
            guard let line else { break }
            if case .auth = expected.last {
                // SASL response line inside an AUTH exchange: not a command.
                forward.writeBytes(line)
                continue
            }
            let command = POP3Command(line: line)
            if command.isMalformed {
                if forward.readableBytes > 0 { actions.insert(.sendToServer(forward), at: 0) }
                return connection.close(actions, .clientProtocolViolation)
            }
            forward.writeImmutableBuffer(command.wire)
            let exp = expectation(for: command)
            expected.append(exp)
            if case .stls = exp {
                connection.startTLSSent()
                actions += MailboxConnection<Held, Action>.discarded(clientDecoder.takeAll(), from: .client)
                break
            }
        }
        if forward.readableBytes > 0 { actions.insert(.sendToServer(forward), at: 0) }
        return actions
    }

    public mutating func serverBytes(_ bytes: ByteBuffer) -> [Action] {
        if let screened = connection.screenServer(bytes) { return screened }
        framer.append(bytes)
        var actions: [Action] = []
        while connection.parsesServer {
            let head = expected.first ?? .singleLine
            let event: POP3ResponseFramer.Event?
            do { event = try framer.next(multiLineIfOK: Self.isMultiLine(head)) } catch {
                if case .lineTooLong(let limit) = error { return connection.close(actions, .serverLineTooLong(limit: limit)) }
                return connection.close(actions, .serverLineTooLong(limit: configuration.maxStatusLineLength))
            }
            guard let event else { break }
            switch event {
            case .statusLine(let line, let kind):
                let inAuth = if case .auth = head { true } else { false }
                if expected.isEmpty || kind == .other || (kind == .continuation && !inAuth) {
                    // A line that is no reply, or a reply to nothing: whatever follows cannot be
                    // matched to a command (it could be a message the Gate never held).
                    return connection.close(actions, .serverProtocolViolation)
                }
                handleStatus(line, kind, head: head, actions: &actions)
            case .bodyBytes(let chunk):
                handleBodyBytes(chunk, actions: &actions)
            case .bodyEnd(let terminator):
                handleBodyEnd(terminator, actions: &actions)
            }
        }
        if connection.phase == .tlsAccepted {
            actions += MailboxConnection<Held, Action>.discarded(framer.takeAll(), from: .server)
        }
        return connection.flush(actions)
    }

    public mutating func checkFinished(id: MailCheckID, verdict: MailCheckVerdict) -> [Action] {
        guard connection.isOpen, let held = connection.output.held(id) else { return [] }
        var bytes = held.status
        switch verdict {
        case .pass:
            var raw = held.raw
            bytes.writeBuffer(&raw)
        case .deliver(let replacement):
            bytes.writeBytes(POP3DotStuffing.stuff(replacement))
        }
        _ = connection.output.resolve(id, with: bytes)
        return connection.flush([])
    }

    /// The server closed its side. Complete replies still waiting for a verdict are delivered
    /// first; a partly received reply is dropped.
    public mutating func serverClosed() -> [Action] {
        if let settled = connection.serverClosed() { return settled }
        var actions: [Action] = []
        switch body {
        case .holding(_, _, let command)?, .dropping(_, _, let command)?:
            actions.append(.unchecked(.truncatedByServer, command: command))
        default:
            break
        }
        body = nil
        return connection.flush(actions)
    }

    public mutating func clientClosed() -> [Action] {
        connection.clientClosed()
    }

    // MARK: Internals

    private func expectation(for command: POP3Command) -> Expected {
        switch command.keyword {
        case "CAPA":
            return .multiLine
        case "LIST", "UIDL":
            return command.arguments.isEmpty ? .multiLine : .singleLine
        case "RETR":
            return .scanned(.retr(command.arguments.first ?? ""))
        case "TOP":
            let lines = command.arguments.dropFirst().first ?? ""
            let cmd = MessageCommand.top(command.arguments.first ?? "", lines: lines)
            // `TOP n 0` is the header alone; with body lines (`TOP n 9999` is RETR by another
            // name) the reply carries message content and is held and scanned whatever
            // ScanPop3Top says. ScanPop3Top = Yes scans header-only replies too.
            return configuration.scanTop || lines != "0" ? .scanned(cmd) : .unscannedTop(cmd)
        case "AUTH":
            // "AUTH" alone lists mechanisms on some servers (multi-line); with a mechanism it is
            // a SASL exchange.
            return command.arguments.isEmpty ? .multiLine : .auth
        case "STLS":
            return .stls
        default:
            return .singleLine
        }
    }

    private static func isMultiLine(_ expected: Expected) -> Bool {
        switch expected {
        case .multiLine, .scanned, .unscannedTop: return true
        case .greeting, .singleLine, .auth, .stls: return false
        }
    }

    private mutating func handleStatus(_ line: ByteBuffer, _ kind: POP3ResponseFramer.StatusKind,
                                       head: Expected, actions: inout [Action]) {
        if kind == .continuation, case .auth = head {
            connection.output.append(line)  // SASL challenge; AUTH stays outstanding
            return
        }
        if !expected.isEmpty { expected.removeFirst() }  // unsolicited lines are relayed as they are
        guard framer.isInBody else {
            connection.output.append(line)
            if case .stls = head { connection.startTLSAnswered(accepted: kind == .ok) }
            return
        }
        switch head {
        case .scanned(let command):
            body = .holding(status: line, raw: ByteBuffer(), command: command)
        case .unscannedTop(let command):
            actions.append(.unchecked(.topNotScanned, command: command))
            connection.output.append(line)
            body = .streaming
        default:
            connection.output.append(line)
            body = .streaming
        }
    }

    private mutating func handleBodyBytes(_ chunk: ByteBuffer, actions: inout [Action]) {
        switch body {
        case .holding(let status, var raw, let command):
            body = nil
            var chunk = chunk
            raw.writeBuffer(&chunk)
            if status.readableBytes + raw.readableBytes > configuration.maxMessageSize {
                if blockUnchecked {
                    let head = raw.getSlice(at: raw.readerIndex, length: min(raw.readableBytes, configuration.noticeHeadSize))!
                    body = .dropping(status: status, head: head, command: command)
                } else {
                    actions.append(.unchecked(.tooLarge(limit: configuration.maxMessageSize), command: command))
                    connection.output.append(status)
                    connection.output.append(raw)
                    body = .streaming
                }
            } else {
                body = .holding(status: status, raw: raw, command: command)
            }
        case .dropping(let status, var head, let command):
            body = nil
            let room = configuration.noticeHeadSize - head.readableBytes
            if room > 0 {
                var slice = chunk.getSlice(at: chunk.readerIndex, length: min(room, chunk.readableBytes))!
                head.writeBuffer(&slice)
            }
            body = .dropping(status: status, head: head, command: command)
        case .streaming, nil:
            connection.output.append(chunk)
        }
    }

    private mutating func handleBodyEnd(_ terminator: ByteBuffer, actions: inout [Action]) {
        switch body {
        case .holding(let status, var raw, let command):
            let message = POP3DotStuffing.unstuff(raw.readableBytesView)
            var terminator = terminator
            raw.writeBuffer(&terminator)
            let id = MailCheckID(rawValue: nextCheck)
            nextCheck += 1
            connection.output.hold(id, Held(status: status, raw: raw))
            actions.append(.checkMessage(id: id, message: message, command: command))
        case .dropping(let status, let head, let command):
            // `.pass` for this slot sends an empty message: nothing unscanned goes out.
            let id = MailCheckID(rawValue: nextCheck)
            nextCheck += 1
            connection.output.hold(id, Held(status: status, raw: ByteBuffer(string: ".\r\n")))
            actions.append(.replaceUnchecked(id: id, head: POP3DotStuffing.unstuff(head.readableBytesView),
                                             reason: .tooLarge(limit: configuration.maxMessageSize), command: command))
        case .streaming, nil:
            connection.output.append(terminator)
        }
        body = nil
    }

    /// STLS done and Moat terminates TLS on both legs: relay the session inside as a new one
    /// that has had its greeting (RFC 2595: the client asks CAPA again).
    public mutating func resumeAfterTLS() {
        guard connection.resumeAfterTLS() else { return }
        expected.removeAll()
        body = nil
        clientDecoder = POP3LineDecoder(maxLineLength: configuration.maxCommandLineLength)
        framer = POP3ResponseFramer(maxStatusLineLength: configuration.maxStatusLineLength)
    }
}

extension POP3RelaySession.Action: MailboxRelayAction {
    public typealias CloseReason = POP3RelaySession.CloseReason
}

extension POP3RelaySession.CloseReason: MailboxCloseReason {}
