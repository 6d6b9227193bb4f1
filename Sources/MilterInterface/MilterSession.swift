import MailD
import MoatConfig
import NIOCore

/// One milter connection as a state machine: packets in, actions out, no I/O. The channel
/// handler beside it performs the actions (write replies, store the message's bytes, run the
/// check, close): the message itself never passes through here whole, only as pieces to store.
///
/// States: `negotiating` (nothing but OPTNEG is allowed) -> `open` (connection and message
/// events; a message starts at MAIL and is forgotten at ABORT) -> `checking` (end of message:
/// the handler finishes storing it and runs the check; only ABORT or a close may come) -> back
/// to `open` when the verdict is out. QUIT and protocol errors end in `closed`.
public struct MilterSession {
    public struct Configuration: Sendable {
        /// Messages larger than this are not kept: "unchecked: too large".
        public var maxMessageSize: Int
        /// The profile in force; taken at the start of each message.
        public var profile: @Sendable () -> CheckProfile

        public init(maxMessageSize: Int = 512 << 20, profile: @escaping @Sendable () -> CheckProfile) {
            self.maxMessageSize = maxMessageSize
            self.profile = profile
        }
    }

    /// What Moat asks for: add headers, replace the body, change headers (repacking), name the
    /// macros it wants.
    public static let wantedActions: Milter.Actions = [.addHeaders, .changeBody, .changeHeaders, .setSymbolList]
    /// The macros Moat reads: the address and port the client reached, the queue id. Asked for
    /// by name where the MTA lets the filter choose (version 6, SMFIF_SETSYMLIST); Postfix's
    /// defaults are two dozen a message, the queue id again before every header, each parsed
    /// here and formatted there for nothing.
    public static let wantedMacros: [Milter.MacroRequest] = [
        .init(.connect, "{daemon_addr} {daemon_port}"), .init(.mail, "i"), .init(.endOfMessage, "i"),
    ]
    /// Steps Moat does without, steps it does not answer, and header values verbatim.
    public static let wantedSteps: Milter.Steps = [
        .noUnknown, .noData, .noEndOfHeaders,
        .noReplyConnect, .noReplyHelo, .noReplyMail, .noReplyRecipient, .noReplyData, .noReplyUnknown,
        .noReplyEndOfHeaders, .noReplyHeader, .noReplyBody, .headerLeadingSpace,
    ]

    public struct Negotiated: Sendable, Equatable {
        public var version: UInt32
        public var actions: Milter.Actions
        public var steps: Milter.Steps
    }

    /// What the core needs to check one message, besides the message the handler stored.
    public struct CheckRequest: Sendable {
        public var id: Int
        public var envelope: Envelope
        public var profile: CheckProfile
        /// The bytes that end the message (the last chunk, the blank line when no body came):
        /// stored last, before the check.
        public var lastBytes: ByteBuffer
    }

    public enum Action {
        case none
        case reply([MilterReply])
        /// Store `piece` of the message, then send `replies` (maybe none).
        case store(MessagePiece, replies: [MilterReply])
        /// Store `request.lastBytes`, finish storing the message, then run the check off the
        /// event loop and call `decided(id:_:)` with the result (or `notStored(id:reason:)`).
        case check(CheckRequest)
        /// Replies (maybe none) then a log line: the message was answered without the core.
        case replyUnchecked([MilterReply], reason: String)
        /// Close the connection; `error` is nil for an orderly QUIT.
        case close(error: String?)
    }

    enum State {
        case negotiating
        case open
        case checking(id: Int)
        case closed
    }

    struct Message {
        var sender: String?
        var recipients: [String] = []
        var profile: CheckProfile
        var framing: MessageFraming
        var headers: [(name: String, value: String)] = []
    }

    let configuration: Configuration
    private(set) var state: State = .negotiating
    public private(set) var negotiated: Negotiated?
    private var macros: [UInt8: [(String, String)]] = [:]
    private var hostname: String?
    private var clientAddress: String?
    private var clientPort: Int?
    private var helo: String?
    private var message: Message?
    private var nextCheckId = 0
    /// Headers of the message being checked, for the edits of a repack.
    public private(set) var checkedHeaders: [(name: String, value: String)] = []
    public private(set) var messagesChecked = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    var leadingSpace: Bool { negotiated?.steps.contains(.headerLeadingSpace) ?? false }

    /// The queue id and addresses for log lines.
    public var logContext: String {
        var parts: [String] = []
        if let id = macro("i") { parts.append("queue id \(id)") }
        if let clientAddress { parts.append("client \(hostname ?? "?")[\(clientAddress)]") }
        return parts.joined(separator: ", ")
    }

    func macro(_ name: String) -> String? {
        let braced = "{\(name)}"
        for stage in "ETRMHC".utf8 {
            if let value = macros[stage]?.last(where: { $0.0 == name || $0.0 == braced })?.1, !value.isEmpty { return value }
        }
        return nil
    }

    // MARK: events

    public mutating func receive(_ command: MilterCommand) -> Action {
        switch state {
        case .closed:
            return .none
        case .negotiating:
            switch command {
            case let .optionNegotiation(version, actions, steps):
                return negotiate(version: version, actions: actions, steps: steps)
            case .macros:
                return .none
            case .quit:
                state = .closed
                return .close(error: nil)
            default:
                return protocolError("\(command.name) before option negotiation")
            }
        case .checking:
            switch command {
            case .abort:
                // The MTA gave up on this message (its timeout): the verdict is no longer wanted,
                // nor the stored message the check reads.
                state = .open
                resetMessage()
                return .store(.drop, replies: [])
            case .quit:
                state = .closed
                return .close(error: nil)
            case .macros(let stage, let list):
                macros[stage] = list
                return .none
            default:
                return protocolError("\(command.name) while the message is being checked")
            }
        case .open:
            return receiveOpen(command)
        }
    }

    private mutating func receiveOpen(_ command: MilterCommand) -> Action {
        switch command {
        case .optionNegotiation:
            return protocolError("a second option negotiation")
        case let .macros(stage, list):
            macros[stage] = list
            return .none
        case let .connect(name, family, port, address):
            resetConnection(keepingMacros: true)
            hostname = name
            if family != UInt8(ascii: "U") {
                clientAddress = address
                clientPort = port.map(Int.init)
            }
            return answer(.noReplyConnect)
        case .helo(let argument):
            helo = argument
            return answer(.noReplyHelo)
        case let .mail(sender, _):
            // A new MAIL without ABORT before it (Sendmail after an accepted message): `begin`
            // drops what was stored, but not the macros that just came for this MAIL.
            let profile = configuration.profile()
            message = Message(sender: Self.address(sender), profile: profile,
                              framing: MessageFraming(maxSize: configuration.maxMessageSize))
            return .store(.begin(spoolThreshold: profile.spoolThreshold), replies: replies(.noReplyMail))
        case let .recipient(recipient, _):
            guard message != nil else { return protocolError("RCPT without MAIL") }
            message!.recipients.append(Self.address(recipient))
            return answer(.noReplyRecipient)
        case .data:
            return answer(.noReplyData)
        case .unknown:
            return answer(.noReplyUnknown)
        case let .header(name, value):
            guard message != nil else { return protocolError("header without MAIL") }
            message!.headers.append((name, value))
            let piece = message!.framing.header(name: name, value: value, leadingSpace: leadingSpace)
            return store(piece, answering: .noReplyHeader)
        case .endOfHeaders:
            return store(message?.framing.endHeaders(), answering: .noReplyEndOfHeaders)
        case .body(let chunk):
            guard message != nil else { return protocolError("body without MAIL") }
            return store(message!.framing.body(chunk), answering: .noReplyBody)
        case .endOfBody(let chunk):
            return endOfMessage(chunk)
        case .abort:
            return dropMessage()
        case .quit:
            state = .closed
            resetMessage()
            // The handler drops what was stored when it closes.
            return .close(error: nil)
        case .quitNewConnection:
            defer { resetConnection() }
            return dropMessage()
        }
    }

    private mutating func negotiate(version: UInt32, actions: Milter.Actions, steps: Milter.Steps) -> Action {
        guard version >= 2 else {
            return protocolError("the MTA offers milter protocol version \(version); versions 2 to 6 are supported")
        }
        var wanted = Self.wantedActions
        if version < 6 { wanted.remove(.setSymbolList) }   // a version 6 action
        let agreed = Negotiated(version: min(version, 6),
                                actions: wanted.intersection(actions),
                                steps: Self.wantedSteps.intersection(steps))
        negotiated = agreed
        state = .open
        let macros = agreed.actions.contains(.setSymbolList) ? Self.wantedMacros : []
        return .reply([.optionNegotiation(version: agreed.version, actions: agreed.actions, steps: agreed.steps, macros: macros)])
    }

    private func answer(_ noReply: Milter.Steps) -> Action {
        let replies = self.replies(noReply)
        return replies.isEmpty ? .none : .reply(replies)
    }

    /// CONTINUE unless the MTA agreed not to wait for an answer to this step.
    private func replies(_ noReply: Milter.Steps) -> [MilterReply] {
        negotiated?.steps.contains(noReply) == true ? [] : [.continue]
    }

    /// `piece` to store (nothing once the message is too large), with the step's answer.
    private func store(_ piece: MessagePiece?, answering noReply: Milter.Steps) -> Action {
        guard let piece else { return answer(noReply) }
        return .store(piece, replies: replies(noReply))
    }

    /// Forgets the message being received; the handler drops what it stored of it.
    private mutating func dropMessage() -> Action {
        let hadMessage = message != nil
        resetMessage()
        return hadMessage ? .store(.drop, replies: []) : .none
    }

    private mutating func endOfMessage(_ chunk: ByteBuffer) -> Action {
        guard var current = message else { return protocolError("end of message without MAIL") }
        message = nil
        let last = current.framing.body(chunk)
        guard case .bytes(let lastBytes)? = last, !current.framing.tooLarge else {
            // Nothing more was stored since the limit passed; the handler drops the rest with the answer.
            return .replyUnchecked(Self.uncheckedReplies(blockUnchecked: current.profile.blockUnchecked, transient: false),
                                   reason: "unchecked: larger than the limit of \(configuration.maxMessageSize) bytes (\(current.framing.size) bytes)")
        }
        nextCheckId += 1
        checkedHeaders = current.headers
        state = .checking(id: nextCheckId)
        let envelope = Envelope(source: .milter, sender: current.sender, recipients: current.recipients, helo: helo,
                                clientAddress: clientAddress, clientPort: clientPort, clientHostname: hostname,
                                serverAddress: macro("daemon_addr"), serverPort: macro("daemon_port").flatMap { PeerNumber.decimal($0, max: 65535).value },
                                queueId: macro("i"))
        return .check(CheckRequest(id: nextCheckId, envelope: envelope, profile: current.profile, lastBytes: lastBytes))
    }

    /// The handler could not store the message for check `id` (spool not writable: disk full,
    /// directory gone). Moat failed: never a reason to pass the message, whatever
    /// BlockUnchecked says, so a temporary failure.
    public mutating func notStored(id: Int, reason: String) -> Action {
        guard case .checking(let current) = state, current == id else { return .none }
        state = .open
        checkedHeaders = []
        return .replyUnchecked(Self.localFailureReplies, reason: "Moat failure: \(reason)")
    }

    /// The core's decision for check `id`, as replies. A decision for a check the MTA has
    /// aborted since, or that timed out, is dropped.
    public mutating func decided(id: Int, _ decision: Decision) -> Action {
        guard case .checking(let current) = state, current == id else { return .none }
        state = .open
        messagesChecked += 1
        let replies = VerdictReplies.replies(for: decision, actions: negotiated?.actions ?? [],
                                             leadingSpace: leadingSpace, originalHeaders: checkedHeaders)
        checkedHeaders = []
        return .reply(replies)
    }

    /// MilterScanTimeout passed without a decision: answer as for an unchecked message
    /// (a time-out is transient: temporary failure when BlockUnchecked, else accept).
    public mutating func timedOut(id: Int, blockUnchecked: Bool) -> Action {
        guard case .checking(let current) = state, current == id else { return .none }
        state = .open
        checkedHeaders = []
        return .replyUnchecked(Self.uncheckedReplies(blockUnchecked: blockUnchecked, transient: true),
                               reason: "unchecked: MilterScanTimeout passed")
    }

    /// Whether a progress packet keeps the MTA waiting for check `id`.
    public func isChecking(id: Int) -> Bool {
        if case .checking(let current) = state { return current == id }
        return false
    }

    /// The peer went away: forget everything (the handler drops what it stored).
    public mutating func closed() {
        resetMessage()
        state = .closed
    }

    public var isMidMessage: Bool {
        if message != nil { return true }
        if case .checking = state { return true }
        return false
    }

    static let uncheckedRejectText = "The message could not be checked"
    static let uncheckedTempfailText = "The message could not be checked now, try again later"

    static let localFailureText = "Local error in the mail filter, try again later"
    static let localFailureReplies: [MilterReply] = [.replyCode(VerdictReplies.smtpReply(451, "4.3.0", localFailureText))]

    static func uncheckedReplies(blockUnchecked: Bool, transient: Bool) -> [MilterReply] {
        guard blockUnchecked else { return [.accept] }
        return transient ? [.replyCode(VerdictReplies.smtpReply(451, "4.7.1", uncheckedTempfailText))]
                         : [.replyCode(VerdictReplies.smtpReply(550, "5.7.1", uncheckedRejectText))]
    }

    private mutating func protocolError(_ why: String) -> Action {
        state = .closed
        resetMessage()
        return .close(error: "milter protocol error: \(why)")
    }

    private mutating func resetMessage() {
        message = nil
        checkedHeaders = []
        for stage in "MRTLNBE".utf8 { macros[stage] = nil }
    }

    private mutating func resetConnection(keepingMacros: Bool = false) {
        if !keepingMacros { macros = [:] }
        hostname = nil
        clientAddress = nil
        clientPort = nil
        helo = nil
    }

    /// `<a@b>` -> `a@b`; `<>` (null sender) -> empty.
    static func address(_ text: String) -> String {
        var s = Substring(text)
        if s.hasPrefix("<") { s = s.dropFirst() }
        if s.hasSuffix(">") { s = s.dropLast() }
        return String(s)
    }
}

extension MilterCommand {
    var name: String {
        switch self {
        case .optionNegotiation: "OPTNEG"
        case .macros: "MACRO"
        case .connect: "CONNECT"
        case .helo: "HELO"
        case .mail: "MAIL"
        case .recipient: "RCPT"
        case .data: "DATA"
        case .header: "HEADER"
        case .endOfHeaders: "EOH"
        case .body: "BODY"
        case .endOfBody: "BODYEOB"
        case .unknown: "UNKNOWN"
        case .abort: "ABORT"
        case .quit: "QUIT"
        case .quitNewConnection: "QUIT_NC"
        }
    }
}
