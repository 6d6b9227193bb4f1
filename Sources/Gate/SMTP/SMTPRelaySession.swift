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
/// - **BDAT** is refused (CHUNKING was not offered); its chunk is skipped, never relayed as
///   commands. XCLIENT/XFORWARD from a client are refused (they would forge the audit trail).
/// - **STARTTLS**: relayed; client bytes pipelined after the command are discarded
///   (CVE-2011-0411 class). On the server's 220 the relay either unwraps TLS on both legs
///   (`UnwrapSsl`; then `tlsEstablished()` starts the session over, waiting for the client's
///   new EHLO) or relays the encrypted session blindly.
///
/// While a message is received or checked, the server waits with the client's transaction
/// open; `keepAlive()` sends NOOP (whose reply is swallowed) so its idle timer (Postfix
/// `smtpd_timeout`, 300 s) never runs out. The client, after its final ".", waits for the
/// reply up to 10 minutes (RFC 5321 4.5.3.2.6); SMTP has no progress reply for it, so the check
/// (ScanTimeout, 30 s by default) must end well within that.
public struct SMTPRelaySession: RelayProtocolSession {
    public static let protocolName = "SMTP"

    public struct Configuration: Sendable {
        /// EHLO keywords removed from the server's reply (upper case).
        public var removedExtensions: Set<String> = ["CHUNKING", "BINARYMIME", "XEXCH50", "CHECKPOINT",
                                                     "XCLIENT", "XFORWARD"]
        /// Commands answered with 502 instead of being relayed.
        public var refusedCommands: Set<String> = ["XCLIENT", "XFORWARD", "XEXCH50"]
        /// Client lines held (pipelined while a message is checked) before reading pauses.
        public var maximumHeldLines = 100

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
        case blind
        case closed
    }

    /// What a reply at the head of the queue answers.
    enum Expectation: Equatable {
        case greeting
        case relay
        case ehlo
        case mail
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
    }

    struct Transaction: Equatable {
        var sender: String?
        var recipients: [String] = []
        var recipientsTried = 0
    }

    public let configuration: Configuration
    private(set) var state: State = .awaitingGreeting
    private(set) var expectations: [Expectation] = [.greeting]
    private var held: [MailLine] = []
    private var reply: [MailLine] = []
    private var transaction = Transaction()
    private var helo: String?
    private var atLineStart = true
    /// Bytes of a refused BDAT chunk still to skip.
    private var skipping = 0
    /// The rest of an over-long command line is being discarded.
    private var discardingLine = false
    /// The server asked for an AUTH continuation (334): the next client line is not a command.
    private var authContinuation = false

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    // MARK: - State the relay reads

    public var wantsClientInput: Bool {
        switch state {
        case .closed, .blind: return state == .blind
        default: return held.count < configuration.maximumHeldLines
        }
    }

    public var awaitsServer: Bool {
        state != .blind && state != .closed && expectations.contains(where: \.isServerReply)
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
        case .blind:
            return [.sendToServer(line.bytes)]
        case .closed, .startTLSPending:
            // After STARTTLS nothing the client sent before the server's answer is trusted.
            return []
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
            answer("500 5.5.2 Error: line too long", &actions)
            return
        }
        if authContinuation {
            authContinuation = false
            forward(line, expecting: .auth, &actions)
            return
        }
        let text = line.text
        let verb = text.prefix(while: { $0 != " " }).uppercased()
        let argument = text.dropFirst(verb.count).drop(while: { $0 == " " })
        switch verb {
        case "EHLO", "HELO":
            helo = String(argument)
            transaction = Transaction()
            forward(line, expecting: verb == "EHLO" ? .ehlo : .relay, &actions)
        case "MAIL":
            transaction = Transaction(sender: Self.path(argument, after: "FROM:"))
            forward(line, expecting: .mail, &actions)
        case "RCPT":
            transaction.recipientsTried += 1
            forward(line, expecting: .rcpt(Self.path(argument, after: "TO:") ?? ""), &actions)
        case "DATA":
            state = .awaitingDataDecision
            expectations.append(.dataDecision)
            advance(&actions)
        case "BDAT":
            let size = argument.split(separator: " ").first.flatMap { Int($0) } ?? 0
            skipping = max(0, size)
            answer("502 5.5.1 Error: BDAT is not supported here (CHUNKING is not offered)", &actions)
        case "RSET":
            transaction = Transaction()
            forward(line, expecting: .relay, &actions)
        case "STARTTLS":
            forward(line, expecting: .startTLS, &actions)
            state = .startTLSPending
            held.removeAll()
        case "AUTH":
            forward(line, expecting: .auth, &actions)
        case "QUIT":
            forward(line, expecting: .quit, &actions)
        case _ where configuration.refusedCommands.contains(verb):
            answer("502 5.5.1 Error: command not available through this gateway", &actions)
        default:
            forward(line, expecting: .relay, &actions)
        }
    }

    private mutating func forward(_ line: MailLine, expecting: Expectation, _ actions: inout [RelayAction]) {
        expectations.append(expecting)
        actions.append(.sendToServer(line.bytes))
    }

    /// A reply of Moat's own, given in its turn after the replies still outstanding.
    private mutating func answer(_ text: String, _ actions: inout [RelayAction]) {
        expectations.append(.local(text))
        advance(&actions)
    }

    private mutating func dataLine(_ line: MailLine, _ actions: inout [RelayAction]) {
        var bytes = line.bytes
        if atLineStart, line.isComplete, Self.isEndOfData(bytes) {
            state = .checking
            actions.append(.checkMessage(MessageCheckRequest(source: .smtp, sender: transaction.sender,
                                                             recipients: transaction.recipients, helo: helo)))
            return
        }
        if atLineStart, bytes.readableBytesView.first == UInt8(ascii: ".") {
            bytes.moveReaderIndex(forwardBy: 1)
        }
        atLineStart = line.isComplete
        if bytes.readableBytes > 0 { actions.append(.storeBody(bytes)) }
    }

    static func isEndOfData(_ bytes: ByteBuffer) -> Bool {
        let view = bytes.readableBytesView
        return view.elementsEqual(".\r\n".utf8) || view.elementsEqual(".\n".utf8)
    }

    // MARK: - Server input

    public mutating func serverLine(_ line: MailLine) -> [RelayAction] {
        var actions: [RelayAction] = []
        switch state {
        case .blind:
            return [.sendToClient(line.bytes)]
        case .closed:
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
            actions.append(.sendToClient(Self.joined(lines)))
            if code == 421 { state = .closed; actions.append(.close) }
            return actions
        }
        expectations.removeFirst()
        handleReply(code, lines, to: head, &actions)
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
        case .mail:
            if !positive { transaction.sender = nil }
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
                state = .blind
                expectations.removeAll()
                held.removeAll()
                actions.append(.startTLS)
            } else {
                state = .command
            }
        case .quit:
            actions.append(.sendToClient(Self.joined(lines)))
            state = .closed
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
            atLineStart = true
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
        case .discard:
            actions.append(.sendToClient(ByteBuffer(string: "250 2.0.0 Ok: message discarded by the content policy\r\n")))
        }
        endTransaction(resetUpstream: true, &actions)
        drainHeld(&actions)
        return actions
    }

    public mutating func messageSent() -> [RelayAction] { [] }

    public mutating func keepAlive() -> [RelayAction] {
        guard needsKeepAlive else { return [] }
        expectations.append(.swallow)
        return [.sendToServer(ByteBuffer(string: "NOOP\r\n"))]
    }

    public mutating func tlsEstablished() {
        guard state == .blind else { return }
        state = .command
        expectations.removeAll()
        held.removeAll()
        reply.removeAll()
        transaction = Transaction()
        helo = nil
        atLineStart = true
        skipping = 0
        discardingLine = false
        authContinuation = false
    }

    // MARK: - Failures

    public mutating func serverClosed(connected: Bool) -> [RelayAction] {
        switch state {
        case .closed: return []
        case .blind:
            state = .closed
            return [.close]
        default:
            return fail(connected ? "421 4.4.2 The connection to the mail server was lost, try again later"
                                  : "421 4.4.1 The mail server cannot be reached, try again later")
        }
    }

    public mutating func serverTimedOut() -> [RelayAction] {
        guard state != .closed, state != .blind else { return [] }
        return fail("421 4.4.2 The mail server did not answer in time, try again later")
    }

    public mutating func clientTimedOut() -> [RelayAction] {
        guard state != .closed, state != .blind else { return [] }
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
