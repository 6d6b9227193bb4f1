import MailD
import NIOCore

/// The SMTP relay between a diverted client and its original server, as a state machine.
///
/// The dialogue is relayed command by command; replies are matched to commands through an
/// ordered queue, so PIPELINING works (RFC 2920). What Moat changes:
///
/// - **EHLO**: extensions Moat cannot honour are removed from the server's list (CHUNKING and
///   BINARYMIME until BDAT is supported, XCLIENT/XFORWARD, XEXCH50, CHECKPOINT); the rest
///   (PIPELINING, 8BITMIME, SMTPUTF8, SIZE, DSN, AUTH, STARTTLS, ...) pass untouched.
/// - **DATA is store-and-forward**: the client's DATA is answered by Moat (354 when at least
///   one RCPT was accepted by the server; otherwise 503/554 as Postfix does), the message is
///   received and unstuffed, then checked. Only a message to deliver is sent upstream (DATA,
///   the message re-stuffed, "."), and the client gets the **server's own** final reply, so it
///   never hears 250 before the server accepted. A refusal gives 550 5.7.1 / 451 4.7.1 with the
///   rule's text, and RSET upstream keeps both ends in step.
/// - **Commands are parsed as the servers parse them** (`SMTPCommand`: leading white space
///   skipped, the verb ends at any white space, no case) and sent upstream rebuilt from what was
///   parsed. Only the verbs in `relayedCommands` reach the server; others get the Gate's own 502,
///   NUL or bare CR in a command 500, a command line over `commandLineLimit` 500 (never cut).
/// - **Only replies the Gate asked for pass.** An intermediate reply (3xx) to anything but the
///   Gate's own DATA or an AUTH exchange, or any reply nobody asked for, closes both sides with
///   421: a server that says 354 to a command the Gate took for something else must never get
///   the message relayed line by line, unscanned.
/// - **The message** is read by `SMTPDataReader` (end only at CRLF.CRLF, bare CR/LF stored as
///   CRLF) and stored only up to `maxMessageSize`: past it the rest is read to the end and
///   dropped, and the client gets 552. `MAIL FROM:<...> SIZE=n` over the limit gets 552 at once,
///   and the EHLO reply's SIZE says the lower of the server's limit and the Gate's. Lines sent
///   after DATA before the Gate's 354 (pipelining where RFC 2920 forbids it) close the session.
/// - **BDAT** is refused (CHUNKING was not offered); its chunk is skipped, never relayed as
///   commands; a size that is not a plain decimal within `maxMessageSize` closes the session
///   (the framing cannot be followed). XCLIENT/XFORWARD from a client are refused (they would
///   forge the audit trail).
/// - **STARTTLS**: relayed; client bytes pipelined after the command are discarded
///   (CVE-2011-0411 class), and so is everything either side sends after the server's 220
///   until TLS is up (server bytes that came with the 220 would reach the client in plaintext,
///   as if inside TLS). The relay then either unwraps TLS on both legs (`UnwrapSsl`; then
///   `tlsEstablished()` starts the session over, waiting for the client's new EHLO) or relays
///   the encrypted session blindly.
///
/// While a message is received or checked, the server waits with the client's transaction
/// open; `keepAlive()` sends NOOP (whose reply is swallowed) so its idle timer (Postfix
/// `smtpd_timeout`, 300 s) never runs out. The client, after its final ".", waits for the
/// reply up to 10 minutes (RFC 5321 4.5.3.2.6); SMTP has no progress reply for it, so the check
/// (ScanTimeout, 30 s by default) must end well within that.
public struct SMTPRelaySession: RelaySession {
    public static let protocolName = "SMTP"
    public static let envelopeSource = Envelope.Source.smtp

    public struct Configuration: Sendable {
        /// EHLO keywords removed from the server's reply (upper case).
        public var removedExtensions: Set<String> = ["CHUNKING", "BINARYMIME", "XEXCH50", "CHECKPOINT",
                                                     "XCLIENT", "XFORWARD"]
        /// Commands answered with 502 instead of being relayed.
        public var refusedCommands: Set<String> = ["XCLIENT", "XFORWARD", "XEXCH50"]
        /// Client lines held (pipelined while a message is checked) before reading pauses.
        public var maximumHeldLines = 100
        /// The verbs relayed to the server; everything else gets the Gate's own 502. DATA, BDAT
        /// and the refused ones are the Gate's own business and are not listed.
        public var relayedCommands: Set<String> = ["EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP", "QUIT", "VRFY",
                                                   "EXPN", "HELP", "AUTH", "STARTTLS", "ETRN"]
        /// Longest command line, CRLF included (Postfix's `line_length_limit`).
        public var commandLineLimit = 2048
        /// Longest AUTH line (initial responses and SASL continuations: OAuth tokens are long).
        public var authLineLimit = 16384
        /// Largest message (unstuffed bytes) stored for checking (MaxMessageSize).
        public var maxMessageSize = 64 << 20
        /// Commands the Gate itself refused (unknown, malformed, too long) before it closes the
        /// session (Postfix's `smtpd_hard_error_limit` is 20; a client that sends this many is
        /// not speaking SMTP).
        public var errorLimit = 20

        public init() {}
    }

    enum State: Equatable {
        case awaitingGreeting
        case command
        /// DATA was given; earlier replies are still outstanding.
        case awaitingDataDecision
        case receivingData
        case checking
        case awaitingUpstreamData
        case sendingMessage
        /// STARTTLS was sent; client bytes are discarded until the server answers.
        case startTLSPending
        /// The server said 220 to STARTTLS: nothing either side sends is taken until TLS is up
        /// (then the relay resumes the session or stops using it for a blind relay).
        case tlsStarting
        case closed
    }

    /// What a reply at the head of the queue answers.
    enum Expectation: Equatable {
        case greeting
        case relay
        case ehlo
        /// The sender takes effect only when the server accepts it: a refused (nested) MAIL
        /// leaves the open transaction as the server keeps it.
        case mail(String?)
        case rcpt(String)
        case auth
        case startTLS
        case quit
        /// A command Moat sent on its own (NOOP keep-alive, RSET after a refusal).
        case swallow
        case upstreamData
        case endOfData
        /// Not a server reply: an answer Moat gives itself, in its turn.
        case local(String)
        /// Not a server reply: decide on the client's DATA once everything before it is answered.
        case dataDecision

        var isServerReply: Bool {
            switch self {
            case .local, .dataDecision: false
            default: true
            }
        }

        /// May the server answer with 3xx: only the Gate's own DATA and an AUTH exchange.
        var mayBeIntermediate: Bool {
            switch self {
            case .auth, .upstreamData: true
            default: false
            }
        }
    }

    struct Transaction: Equatable {
        var sender: String?
        var recipients: [String] = []
        var recipientsTried = 0
    }

    public let configuration: Configuration
    private(set) var state: State = .awaitingGreeting
    private(set) var expectations: [Expectation] = [.greeting]
    /// Lines from each side; replaced (their buffered bytes dropped) when TLS starts.
    var clientLines = NIOSingleStepByteToMessageProcessor(MailLineDecoder())
    var serverLines = NIOSingleStepByteToMessageProcessor(MailLineDecoder())
    private var held: [MailLine] = []
    private var reply: [MailLine] = []
    private var transaction = Transaction()
    private var helo: String?
    /// Bytes of a refused BDAT chunk still to skip.
    private var skipping = 0
    /// The rest of an over-long command line is being discarded.
    private var discardingLine = false
    /// The server asked for an AUTH continuation (334): the next client line is not a command.
    private var authContinuation = false
    private var data = SMTPDataReader()
    /// Unstuffed bytes of the message so far (stored or, past the limit, dropped).
    private var received = 0
    /// The message went past `maxMessageSize`: the rest is read and dropped.
    private var tooLarge = false
    /// Commands refused by the Gate so far (see `errorLimit`).
    private var errors = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: - State the relay reads

    public var wantsClientInput: Bool {
        switch state {
        case .closed: return false
        default: return held.count < configuration.maximumHeldLines
        }
    }

    public var awaitsServer: Bool {
        state != .tlsStarting && state != .closed && expectations.contains(where: \.isServerReply)
    }

    public var needsKeepAlive: Bool {
        (state == .receivingData || state == .checking) && !expectations.contains(where: \.isServerReply)
    }

    public var awaitsClient: Bool {
        (state == .command && expectations.isEmpty) || state == .receivingData
    }

    // MARK: - Client input

    public mutating func clientLine(_ line: MailLine) -> [RelayAction] {
        var actions: [RelayAction] = []
        var line = line
        if skipping > 0 {
            let n = min(skipping, line.bytes.readableBytes)
            line.bytes.moveReaderIndex(forwardBy: n)
            skipping -= n
            if line.bytes.readableBytes == 0 { return [] }
        }
        switch state {
        case .closed, .startTLSPending, .tlsStarting:
            // After STARTTLS nothing the client sent before TLS is up is trusted.
            return []
        case .awaitingDataDecision:
            // RFC 2920: DATA ends a pipelined group; the client waits for 354. Bytes here would
            // be commands to a server that refuses the DATA and body to one that accepts it.
            return fail("554 5.5.0 Error: SMTP protocol synchronization (data sent before the 354 reply)")
        case .receivingData:
            dataLine(line, &actions)
        case .command where held.isEmpty:
            command(line, &actions)
        default:
            held.append(line)
        }
        drainHeld(&actions)
        return actions
    }

    private mutating func drainHeld(_ actions: inout [RelayAction]) {
        while !held.isEmpty {
            switch state {
            case .command:
                command(held.removeFirst(), &actions)
            case .receivingData:
                dataLine(held.removeFirst(), &actions)
            case .startTLSPending, .closed:
                held.removeAll()
            default:
                return
            }
        }
    }

    private mutating func command(_ line: MailLine, _ actions: inout [RelayAction]) {
        if discardingLine {
            discardingLine = !line.isComplete
            return
        }
        guard line.isComplete else {
            discardingLine = true
            refuse("500 5.5.2 Error: line too long", &actions)
            return
        }
        if authContinuation {
            authContinuation = false
            authResponse(line, &actions)
            return
        }
        let command: SMTPCommand
        switch SMTPCommand.parse(line.bytes, limit: configuration.authLineLimit) {
        case .success(let parsed):
            guard parsed.verb == "AUTH" || line.bytes.readableBytes <= configuration.commandLineLimit else {
                refuse("500 5.5.2 Error: line too long", &actions)
                return
            }
            command = parsed
        case .failure(.tooLong):
            refuse("500 5.5.2 Error: line too long", &actions)
            return
        case .failure(.empty):
            refuse("500 5.5.2 Error: bad syntax", &actions)
            return
        case .failure(.nul), .failure(.bareCR):
            refuse("500 5.5.2 Error: bad syntax (NUL or bare CR in a command)", &actions)
            return
        }
        let verb = command.verb
        if Self.httpVerbs.contains(verb) || verb == "HOST:" {
            // ALPACA: a browser's request sent to a mail port (cross-protocol attack). Nothing
            // of it is relayed or echoed; the session ends here.
            actions += fail("421 4.7.0 Error: this is an SMTP server, not HTTP; closing")
            return
        }
        switch verb {
        case "EHLO", "HELO":
            helo = command.argumentText
            transaction = Transaction()
            forward(command, expecting: verb == "EHLO" ? .ehlo : .relay, &actions)
        case "MAIL":
            if let size = command.parameters().first(where: { $0.keyword == "SIZE" })?.value,
               SMTPCommand.decimal(Substring(size)).map({ $0 > configuration.maxMessageSize }) ?? true {
                answer("552 5.3.4 Message size exceeds fixed limit", &actions)
                return
            }
            forward(command, expecting: .mail(command.path(after: "FROM:")), &actions)
        case "RCPT":
            transaction.recipientsTried += 1
            forward(command, expecting: .rcpt(command.path(after: "TO:") ?? ""), &actions)
        case "DATA":
            guard command.argument.isEmpty else {
                answer("501 5.5.4 Syntax: DATA", &actions)
                return
            }
            state = .awaitingDataDecision
            expectations.append(.dataDecision)
            advance(&actions)
        case "BDAT":
            let size = command.argumentText.split(whereSeparator: { $0.isASCII && SMTPCommand.isSpace($0.asciiValue!) })
                .first.flatMap { SMTPCommand.decimal($0) }
            guard let size, size <= configuration.maxMessageSize else {
                // How many bytes follow cannot be known (or is too many to read through): the
                // client's next bytes could be anything.
                actions += fail(size == nil ? "501 5.5.4 Syntax: BDAT count [LAST]; closing"
                                            : "552 5.3.4 Message size exceeds fixed limit; closing")
                return
            }
            skipping = size
            answer("502 5.5.1 Error: BDAT is not supported here (CHUNKING is not offered)", &actions)
        case "RSET":
            transaction = Transaction()
            forward(command, expecting: .relay, &actions)
        case "STARTTLS":
            forward(command, expecting: .startTLS, &actions)
            state = .startTLSPending
            held.removeAll()
        case "AUTH":
            forward(command, expecting: .auth, &actions)
        case "QUIT":
            forward(command, expecting: .quit, &actions)
        case _ where configuration.refusedCommands.contains(verb):
            refuse("502 5.5.1 Error: command not available through this gateway", &actions)
        case _ where configuration.relayedCommands.contains(verb):
            forward(command, expecting: .relay, &actions)
        default:
            refuse("502 5.5.2 Error: command not recognized", &actions)
        }
    }

    static let httpVerbs: Set<String> = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE"]

    /// The Gate's own refusal of a command; past `errorLimit` of them the session is closed.
    private mutating func refuse(_ text: String, _ actions: inout [RelayAction]) {
        errors += 1
        if errors > configuration.errorLimit {
            actions += fail("421 4.7.0 Error: too many errors; closing")
            return
        }
        answer(text, &actions)
    }

    /// A SASL response line (base64, or "*" to cancel): passed on with its line end made CRLF;
    /// never a command, never a NUL or bare CR.
    private mutating func authResponse(_ line: MailLine, _ actions: inout [RelayAction]) {
        var bytes = Array(line.bytes.readableBytesView)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        if bytes.count + 2 > configuration.authLineLimit || bytes.contains(0) || bytes.contains(UInt8(ascii: "\r")) {
            // The server waits for a response: "*" cancels its exchange (RFC 4954 4), and its
            // answer to that ends the client's AUTH.
            bytes = [UInt8(ascii: "*")]
        }
        var out = ByteBuffer(bytes: bytes)
        out.writeString("\r\n")
        expectations.append(.auth)
        actions.append(.sendToServer(out))
    }

    private mutating func forward(_ command: SMTPCommand, expecting: Expectation, _ actions: inout [RelayAction]) {
        expectations.append(expecting)
        actions.append(.sendToServer(command.wire))
    }

    /// A reply of Moat's own, given in its turn after the replies still outstanding.
    private mutating func answer(_ text: String, _ actions: inout [RelayAction]) {
        expectations.append(.local(text))
        advance(&actions)
    }

    private mutating func dataLine(_ line: MailLine, _ actions: inout [RelayAction]) {
        switch data.read(line) {
        case .end:
            if tooLarge {
                // Postfix's words; the server never saw this message, its transaction is reset.
                actions.append(.sendToClient(ByteBuffer(string: "552 5.3.4 Error: message file too big\r\n")))
                endTransaction(resetUpstream: true, &actions)
                return
            }
            state = .checking
            actions.append(.checkMessage(MessageCheckRequest(source: .smtp, sender: transaction.sender,
                                                             recipients: transaction.recipients, helo: helo)))
        case .content(let bytes):
            guard !tooLarge, bytes.readableBytes > 0 else { return }
            // Sizes are bounded by the limit (at most 64 KB past it): no overflow.
            received += bytes.readableBytes
            if received > configuration.maxMessageSize {
                tooLarge = true
                actions.append(.dropBody)
            } else {
                actions.append(.storeBody(bytes))
            }
        }
    }

    /// Bare CR and LF line ends rewritten as CRLF in the current message.
    var normalizedLineEnds: Int { data.normalized }

    // MARK: - Server input

    public mutating func serverLine(_ line: MailLine) -> [RelayAction] {
        var actions: [RelayAction] = []
        switch state {
        case .closed, .tlsStarting:
            // After the 220 to STARTTLS, server bytes before TLS were injected (CVE-2011-0411,
            // server to client): they never reach the client.
            return []
        default:
            break
        }
        guard line.isComplete, let code = Self.replyCode(line) else {
            if state == .awaitingGreeting {
                state = .closed
                var bytes = ByteBuffer()
                for piece in reply { bytes.writeImmutableBuffer(piece.bytes) }
                bytes.writeImmutableBuffer(line.bytes)
                return [.unrecognizedProtocol(bytes)]
            }
            return fail("421 4.3.0 The mail server sent a reply that is not SMTP; closing")
        }
        reply.append(line)
        guard Self.isLastLine(line) else {
            if reply.count > 1000 { return fail("421 4.3.0 The mail server sent an endless reply; closing") }
            return []
        }
        let lines = reply
        reply = []
        flushLocal(&actions)
        guard let head = expectations.first, head.isServerReply else {
            // Unasked for: a server that closes the session (421 on idle) says so this way.
            // Anything else would be taken by the client as the answer to its next command.
            if code == 421 {
                actions.append(.sendToClient(Self.joined(lines)))
                state = .closed
                actions.append(.close)
                return actions
            }
            return actions + fail("421 4.3.0 The mail server sent a reply nobody asked for; closing")
        }
        if (300..<400).contains(code), !head.mayBeIntermediate {
            // A 354 (or any 3xx) to a command the Gate did not send as DATA or AUTH: whatever
            // the server thinks it is, the client's next lines must not reach it as its data.
            return actions + fail("421 4.3.0 The mail server asked for data nobody offered; closing")
        }
        expectations.removeFirst()
        handleReply(code, lines, to: head, &actions)
        guard state != .closed else { return actions }
        advance(&actions)
        drainHeld(&actions)
        return actions
    }

    private mutating func handleReply(_ code: Int, _ lines: [MailLine], to expectation: Expectation,
                                      _ actions: inout [RelayAction]) {
        let positive = (200..<400).contains(code)
        switch expectation {
        case .greeting:
            state = .command
            actions.append(.sendToClient(Self.joined(lines)))
        case .relay:
            actions.append(.sendToClient(Self.joined(lines)))
        case .ehlo:
            actions.append(.sendToClient(code == 250 ? filterEHLO(lines) : Self.joined(lines)))
        case .mail(let sender):
            if positive { transaction = Transaction(sender: sender) }
            actions.append(.sendToClient(Self.joined(lines)))
        case .rcpt(let address):
            if positive { transaction.recipients.append(address) }
            actions.append(.sendToClient(Self.joined(lines)))
        case .auth:
            authContinuation = code == 334
            actions.append(.sendToClient(Self.joined(lines)))
        case .startTLS:
            actions.append(.sendToClient(Self.joined(lines)))
            if code == 220 {
                state = .tlsStarting
                expectations.removeAll()
                held.removeAll()
                actions.append(.startTLS)
            } else {
                state = .command
            }
        case .quit:
            actions.append(.sendToClient(Self.joined(lines)))
            // Nothing pipelined behind QUIT is answered or relayed: the session is over.
            state = .closed
            expectations.removeAll()
            held.removeAll()
            actions.append(.close)
        case .swallow:
            break
        case .upstreamData:
            if code == 354 {
                state = .sendingMessage
                expectations.insert(.endOfData, at: 0)
                actions.append(.sendMessage(to: .server, prefix: nil, dotStuffed: true, suffix: nil))
            } else {
                // The server's refusal of DATA is the transaction's final reply.
                actions.append(.sendToClient(Self.joined(lines)))
                endTransaction(resetUpstream: true, &actions)
            }
        case .endOfData:
            actions.append(.sendToClient(Self.joined(lines)))
            endTransaction(resetUpstream: false, &actions)
        case .local, .dataDecision:
            preconditionFailure("not a server reply")
        }
    }

    /// Gives the answers that are Moat's own once they reach the head of the queue.
    private mutating func flushLocal(_ actions: inout [RelayAction]) {
        while let head = expectations.first {
            switch head {
            case .local(let text):
                expectations.removeFirst()
                actions.append(.sendToClient(ByteBuffer(string: text + "\r\n")))
            case .dataDecision:
                expectations.removeFirst()
                decideData(&actions)
            default:
                return
            }
        }
    }

    private mutating func advance(_ actions: inout [RelayAction]) {
        flushLocal(&actions)
    }

    private mutating func decideData(_ actions: inout [RelayAction]) {
        if transaction.sender == nil {
            actions.append(.sendToClient(ByteBuffer(string: "503 5.5.1 Error: need MAIL command\r\n")))
            state = .command
        } else if transaction.recipients.isEmpty {
            let text = transaction.recipientsTried == 0 ? "503 5.5.1 Error: need RCPT command"
                                                         : "554 5.5.1 Error: no valid recipients"
            actions.append(.sendToClient(ByteBuffer(string: text + "\r\n")))
            state = .command
        } else {
            actions.append(.sendToClient(ByteBuffer(string: "354 End data with <CR><LF>.<CR><LF>\r\n")))
            state = .receivingData
            data = SMTPDataReader()
            received = 0
            tooLarge = false
        }
    }

    private mutating func endTransaction(resetUpstream: Bool, _ actions: inout [RelayAction]) {
        transaction = Transaction()
        state = .command
        if resetUpstream {
            expectations.append(.swallow)
            actions.append(.sendToServer(ByteBuffer(string: "RSET\r\n")))
        }
    }

    // MARK: - The check and the message

    public mutating func checkCompleted(_ outcome: CheckOutcome) -> [RelayAction] {
        guard state == .checking else { return [] }
        var actions: [RelayAction] = []
        switch outcome {
        case .deliver:
            state = .awaitingUpstreamData
            expectations.append(.upstreamData)
            actions.append(.sendToServer(ByteBuffer(string: "DATA\r\n")))
            return actions
        case .reject(let text):
            actions.append(.sendToClient(ByteBuffer(string: "550 5.7.1 \(Self.oneLine(text))\r\n")))
        case .tempfail(let text):
            actions.append(.sendToClient(ByteBuffer(string: "451 4.7.1 \(Self.oneLine(text))\r\n")))
        case .storageFull:
            actions.append(.sendToClient(ByteBuffer(string: "452 4.3.1 Insufficient system storage, try again later\r\n")))
        case .localError:
            // Moat itself failed (a spool file could not be written or read): never a pass.
            actions.append(.sendToClient(ByteBuffer(string: "451 4.3.0 Local error in processing, try again later\r\n")))
        case .discard:
            actions.append(.sendToClient(ByteBuffer(string: "250 2.0.0 Ok: message discarded by the content policy\r\n")))
        }
        endTransaction(resetUpstream: true, &actions)
        drainHeld(&actions)
        return actions
    }

    public mutating func messageSent() -> [RelayAction] { [] }

    /// Part of the message went upstream without its final dot: closing the connection makes
    /// the server drop the transaction; the client is told to try again.
    public mutating func messageFailed() -> [RelayAction] {
        fail("451 4.3.0 Local error in processing: the message could not be read back, try again later")
    }

    public mutating func keepAlive() -> [RelayAction] {
        guard needsKeepAlive else { return [] }
        expectations.append(.swallow)
        return [.sendToServer(ByteBuffer(string: "NOOP\r\n"))]
    }

    public mutating func tlsEstablished() {
        guard state == .tlsStarting else { return }
        state = .command
        expectations.removeAll()
        held.removeAll()
        reply.removeAll()
        transaction = Transaction()
        helo = nil
        skipping = 0
        discardingLine = false
        authContinuation = false
    }

    // MARK: - Failures

    public mutating func serverClosed(connected: Bool) -> [RelayAction] {
        switch state {
        case .closed: return []
        case .tlsStarting:
            state = .closed
            return [.close]
        default:
            return fail(connected ? "421 4.4.2 The connection to the mail server was lost, try again later"
                                  : "421 4.4.1 The mail server cannot be reached, try again later")
        }
    }

    public mutating func serverTimedOut() -> [RelayAction] {
        guard state != .closed, state != .tlsStarting else { return [] }
        return fail("421 4.4.2 The mail server did not answer in time, try again later")
    }

    public mutating func clientTimedOut() -> [RelayAction] {
        guard state != .closed, state != .tlsStarting else { return [] }
        return fail("421 4.4.2 Error: timeout exceeded")
    }

    private mutating func fail(_ text: String) -> [RelayAction] {
        state = .closed
        expectations.removeAll()
        held.removeAll()
        return [.sendToClient(ByteBuffer(string: text + "\r\n")), .close]
    }

    // MARK: - Reply syntax

    /// The code of a reply line `ddd`, `ddd text` or `ddd-text`; nil when it is not one.
    static func replyCode(_ line: MailLine) -> Int? {
        let view = line.bytes.readableBytesView
        guard view.count >= 3 else { return nil }
        var code = 0
        for (i, byte) in view.prefix(3).enumerated() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            guard i > 0 || (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(byte) else { return nil }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
        }
        let next = view.dropFirst(3).first
        guard next == nil || next == UInt8(ascii: " ") || next == UInt8(ascii: "-")
              || next == UInt8(ascii: "\r") || next == UInt8(ascii: "\n") else { return nil }
        return code
    }

    static func isLastLine(_ line: MailLine) -> Bool {
        line.bytes.readableBytesView.dropFirst(3).first != UInt8(ascii: "-")
    }

    static func joined(_ lines: [MailLine]) -> ByteBuffer {
        if lines.count == 1 { return lines[0].bytes }
        var out = ByteBuffer()
        for line in lines { out.writeImmutableBuffer(line.bytes) }
        return out
    }

    /// The EHLO reply without the extensions Moat cannot honour; separators fixed so the last
    /// remaining line is `250 `.
    func filterEHLO(_ lines: [MailLine]) -> ByteBuffer {
        var kept: [String] = []
        for (index, line) in lines.enumerated() {
            let text = line.text
            let body = text.dropFirst(4)
            let keyword = body.prefix(while: { $0 != " " && $0 != "=" }).uppercased()
            if index > 0, configuration.removedExtensions.contains(keyword) { continue }
            if index > 0, keyword == "SIZE" {
                // The lower of the two limits: a client that honours SIZE never sends what the
                // Gate would refuse after reading it all (RFC 1870; 0 or none = no server limit).
                let server = SMTPCommand.decimal(body.dropFirst(4).drop(while: { $0 == " " })) ?? 0
                let limit = server == 0 ? configuration.maxMessageSize : min(server, configuration.maxMessageSize)
                kept.append("SIZE \(limit)")
                continue
            }
            kept.append(String(body))
        }
        var out = ByteBuffer()
        for (index, body) in kept.enumerated() {
            out.writeString("250" + (index == kept.count - 1 ? " " : "-") + body + "\r\n")
        }
        return out
    }

    /// `<a@b>` from `FROM:<a@b> SIZE=10`.
    static func path(_ argument: Substring, after prefix: String) -> String? {
        guard argument.uppercased().hasPrefix(prefix) else { return nil }
        let rest = argument.dropFirst(prefix.count).drop(while: { $0 == " " })
        if rest.first == "<", let close = rest.firstIndex(of: ">") {
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        return String(rest.prefix(while: { $0 != " " }))
    }

    /// A rule's text as one reply line: no CR/LF, printable, bounded.
    static func oneLine(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(400) {
            scalars.append(scalar.value < 0x20 || scalar.value == 0x7f ? " " : scalar)
        }
        let cleaned = String(scalars)
        return cleaned.isEmpty ? "Refused by the content policy" : cleaned
    }
}
