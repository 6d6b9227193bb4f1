import Foundation
import Logging
import MailD
import NIOCore
import Policy
import Synchronization

/// What `ByteRelayConnection` asks of a byte-level protocol session (POP3, IMAP): the
/// session's own actions, reduced to what the relay carries out.
enum ByteRelayAction: Sendable, Equatable {
    case sendToServer(ByteBuffer)
    case sendToClient(ByteBuffer)
    /// Check `message` (plain message bytes) and answer with `checkFinished(id:verdict:)`.
    /// `key`: the IMAP message, remembered as known bad when the verdict replaces it.
    case checkMessage(id: MailCheckID, message: [UInt8], what: String, key: IMAPMessageKey?)
    /// Content reached the client without a scan: logged.
    case unchecked(String)
    /// A message that could not be checked, BlockUnchecked on: answer `verdict(id, .deliver(n))`
    /// with a notice `n` built from `head` (the message's first bytes) saying `reason`.
    case replaceUnchecked(id: MailCheckID, head: [UInt8], what: String, reason: String)
    /// STARTTLS/STLS accepted and everything before it delivered: TLS starts now. The relay
    /// unwraps it (then calls `tlsEstablished()`) or relays both legs untouched from now on.
    case startTLSPassthrough
    /// Something to log (injected bytes dropped, ...).
    case note(String)
    case close(String)
}

/// A byte-level relay state machine: the bytes read from each leg go in, actions come out.
protocol ByteRelaySession: Sendable {
    static var protocolName: String { get }
    static var source: Envelope.Source { get }
    /// What the client gets in place of a greeting when the server cannot be reached.
    static var unreachableGreeting: String { get }
    mutating func clientInput(_ bytes: ByteBuffer) -> [ByteRelayAction]
    mutating func serverInput(_ bytes: ByteBuffer) -> [ByteRelayAction]
    mutating func verdict(_ id: MailCheckID, _ verdict: MailCheckVerdict) -> [ByteRelayAction]
    mutating func serverEnded() -> [ByteRelayAction]
    mutating func clientEnded() -> [ByteRelayAction]
    /// Bytes held on behalf of the client (held messages, queued replies).
    var heldBytes: Int { get }
    /// True while a command waits for the server's reply (the reply timeout runs).
    var awaitsServer: Bool { get }
    /// Messages already known bad (from earlier connections of the same client to the server).
    mutating func noteKnownBad(_ keys: [IMAPMessageKey])
    /// Both legs are TLS now and Moat holds the plaintext: relay the session inside.
    mutating func tlsEstablished()
    /// BlockUnchecked of the check profile, set when the connection starts.
    var blockUnchecked: Bool { get set }
    /// False while the session holds many client bytes it cannot forward yet: the client is not read.
    var acceptsClientInput: Bool { get }
}

extension MailUncheckedReason {
    /// The reason a replacement notice gives.
    var noticeText: String {
        switch self {
        case .tooLarge: "The message is larger than the gateway can check"
        case .topNotScanned, .partialFetch: "Part of the message could not be checked"
        case .truncatedByServer: "The message was cut short by the server"
        }
    }
}

extension POP3RelaySession: ByteRelaySession {
    static var protocolName: String { "POP3" }
    static var source: Envelope.Source { .pop3 }
    static var unreachableGreeting: String { "-ERR [SYS/TEMP] The mail server cannot be reached, try again later\r\n" }

    static func map(_ actions: [Action]) -> [ByteRelayAction] {
        actions.map { action in
            switch action {
            case .sendToServer(let bytes): .sendToServer(bytes)
            case .sendToClient(let bytes): .sendToClient(bytes)
            case .checkMessage(let id, let message, let command): .checkMessage(id: id, message: message, what: "\(command)", key: nil)
            case .unchecked(let reason, let command): .unchecked("\(command): \(reason)")
            case .replaceUnchecked(let id, let head, let reason, let command):
                .replaceUnchecked(id: id, head: head, what: "\(command): \(reason)", reason: reason.noticeText)
            case .startTLSPassthrough: .startTLSPassthrough
            case .injectionDiscarded(let from, let count): .note("\(count) bytes from the \(from) around STLS discarded")
            case .close(let reason): .close("\(reason)")
            }
        }
    }

    mutating func clientInput(_ bytes: ByteBuffer) -> [ByteRelayAction] { Self.map(clientBytes(bytes)) }
    mutating func serverInput(_ bytes: ByteBuffer) -> [ByteRelayAction] { Self.map(serverBytes(bytes)) }
    mutating func verdict(_ id: MailCheckID, _ verdict: MailCheckVerdict) -> [ByteRelayAction] {
        Self.map(checkFinished(id: id, verdict: verdict))
    }
    mutating func serverEnded() -> [ByteRelayAction] { Self.map(serverClosed()) }
    mutating func clientEnded() -> [ByteRelayAction] { Self.map(clientClosed()) }
    var heldBytes: Int { bufferedBytes }
    var awaitsServer: Bool { outstandingCommands > 0 }
    mutating func noteKnownBad(_ keys: [IMAPMessageKey]) {}
    mutating func tlsEstablished() { resumeAfterTLS() }
    var acceptsClientInput: Bool { true }
}

extension IMAPRelaySession: ByteRelaySession {
    static var protocolName: String { "IMAP" }
    static var source: Envelope.Source { .imap }
    static var unreachableGreeting: String { "* BYE [UNAVAILABLE] The mail server cannot be reached, try again later\r\n" }

    static func map(_ actions: [Action]) -> [ByteRelayAction] {
        actions.map { action in
            switch action {
            case .sendToServer(let bytes): .sendToServer(bytes)
            case .sendToClient(let bytes): .sendToClient(bytes)
            case .checkMessage(let id, let message, let ref, let item):
                .checkMessage(id: id, message: message, what: "\(item) of \(Self.describe(ref))", key: ref.key)
            case .unchecked(let reason, let ref): .unchecked("\(Self.describe(ref)): \(reason)")
            case .replaceUnchecked(let id, let head, let reason, let ref):
                .replaceUnchecked(id: id, head: head, what: "\(Self.describe(ref)): \(reason)", reason: reason.noticeText)
            case .withheld(let reason, let ref):
                .note("delivered empty, not scanned (BlockUnchecked = Yes): \(Self.describe(ref)): \(reason)")
            case .privateFetchRefused(let command, let status):
                .note("the server answered \(status) to the private \(command): partial fetches of those messages are unchecked")
            case .startTLSPassthrough: .startTLSPassthrough
            case .injectionDiscarded(let from, let count): .note("\(count) bytes from the \(from) around STARTTLS discarded")
            case .close(let reason): .close("\(reason)")
            }
        }
    }

    static func describe(_ ref: IMAPMessageRef) -> String {
        "\(ref.mailbox ?? "?") seq \(ref.sequence.map(String.init) ?? "?") uid \(ref.uid.map(String.init) ?? "?")"
    }

    mutating func clientInput(_ bytes: ByteBuffer) -> [ByteRelayAction] { Self.map(clientBytes(bytes)) }
    mutating func serverInput(_ bytes: ByteBuffer) -> [ByteRelayAction] { Self.map(serverBytes(bytes)) }
    mutating func verdict(_ id: MailCheckID, _ verdict: MailCheckVerdict) -> [ByteRelayAction] {
        Self.map(checkFinished(id: id, verdict: verdict))
    }
    mutating func serverEnded() -> [ByteRelayAction] { Self.map(serverClosed()) }
    mutating func clientEnded() -> [ByteRelayAction] { Self.map(clientClosed()) }
    var heldBytes: Int { bufferedBytes }
    /// IDLE waits for the client's DONE, however long the server stays silent; the private fetch
    /// is waited for like a command.
    var awaitsServer: Bool { awaitsServerReply }
    mutating func noteKnownBad(_ keys: [IMAPMessageKey]) { keys.forEach { noteBlocked($0) } }
    mutating func tlsEstablished() { resumeAfterTLS() }
}

/// One relayed POP3 or IMAP connection: the accepted client channel glued to the Gate's
/// upstream channel, the raw bytes of each leg fed to a byte-level session
/// (`POP3RelaySession`, `IMAPRelaySession`) whose actions it carries out. Held messages are
/// checked by the core off the event loop; the verdict hops back. A mail client cannot be told
/// "rejected" by a mailbox it reads, so every refusal becomes a delivered replacement
/// (`MailboxVerdict`).
///
/// Backpressure: the client is not read while the server cannot take more; the server is not
/// read while the client cannot, or while the session holds more than `holdLimit` bytes
/// (replies queued behind a message being checked).
final class ByteRelayConnection<Session: ByteRelaySession>: RelayEndpoint, @unchecked Sendable {
    let client: any Channel
    private(set) var server: (any Channel)?
    private var session: Session
    private var passthrough = false
    private let context: GateContext
    private let settings: GateSettings
    let info: ConnectionInfo
    private var logger: Logger
    private var closing = false
    private var checks = 0
    private var timer: RepeatedTask?
    private var lastServerActivity = NIODeadline.now()
    var connectUpstream: (() -> Void)?
    /// Set by the Gate when TLS may be unwrapped after STARTTLS/STLS.
    var startTLS: StartTLSUpgrade?
    /// TLS around the session (implicit TLS sets it at the start).
    var tls = RelayTLSState()

    /// Above this many held bytes the server is not read (one message being checked may
    /// be up to MaxMessageSize; a little more lets the replies behind it queue).
    var holdLimit: Int { settings.maxMessageSize + (1 << 20) }

    init(client: any Channel, session: Session, context: GateContext, settings: GateSettings, info: ConnectionInfo) {
        self.client = client
        self.session = session
        self.context = context
        self.settings = settings
        self.info = info
        var logger = context.logger
        logger[metadataKey: "client"] = "\(info.clientAddress ?? "?"):\(info.clientPort ?? 0)"
        logger[metadataKey: "server"] = "\(info.serverAddress ?? "?"):\(info.serverPort ?? 0)"
        logger[metadataKey: "protocol"] = "\(Session.protocolName)"
        self.logger = logger
        knownBadScope = KnownBadMessages.Scope(server: "\(info.serverAddress ?? "?"):\(info.serverPort ?? 0)",
                                              client: info.clientAddress ?? "?")
        self.session.noteKnownBad(context.knownBad.keys(knownBadScope))
        self.session.blockUnchecked = context.profiles.current.blockUnchecked
    }

    private let knownBadScope: KnownBadMessages.Scope
    private var checkKeys: [MailCheckID: IMAPMessageKey] = [:]

    // MARK: - Life cycle

    func clientActive() {
        let connect = connectUpstream
        connectUpstream = nil
        connect?()
    }

    func serverConnected(_ channel: any Channel) {
        client.eventLoop.preconditionInEventLoop()
        server = channel
        if closing { channel.close(promise: nil); return }
        logger.debug("relaying")
        lastServerActivity = .now()
        let tick = TimeAmount.nanoseconds(Int64(settings.timeouts.tick / .nanoseconds(1)))
        timer = client.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { [self] _ in checkTimer() }
        updateReading()
    }

    func serverConnectFailed(_ error: any Error) {
        client.eventLoop.preconditionInEventLoop()
        // A temporary error in place of the greeting (as SMTP's 421): the client retries later.
        logger.warning("cannot connect to the server: \(error)")
        guard !closing else { return }
        client.write(ByteBuffer(string: Session.unreachableGreeting), promise: nil)
        closeBoth()
    }

    func closed(_ side: RelaySide) {
        client.eventLoop.preconditionInEventLoop()
        guard !closing else { return }
        switch side {
        case .client:
            perform(session.clientEnded())
            closeBoth()
        case .server:
            // Complete replies waiting for a verdict are still delivered: close once they are.
            perform(session.serverEnded())
            closeWhenDone()
        }
    }

    private var serverGone = false

    private func closeWhenDone() {
        serverGone = true
        if checks == 0 { closeBoth() }
    }

    private func closeBoth() {
        guard !closing else { return }
        closing = true
        timer?.cancel()
        timer = nil
        for channel in [client, server].compactMap({ $0 }) {
            // An empty write completes after everything written before it.
            channel.writeAndFlush(ByteBuffer()).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: - Input

    func read(_ side: RelaySide, _ buffer: ByteBuffer) {
        guard !closing else { return }
        if passthrough {
            (side == .client ? server : client)?.writeAndFlush(buffer, promise: nil)
            return
        }
        if tls.upgradeStarted != nil {
            // Between the positive reply and the end of the handshakes only TLS records are
            // expected, and the TLS handlers take those; plaintext here was injected.
            logger.notice("\(buffer.readableBytes) plaintext bytes from the \(side) during the TLS upgrade discarded")
            return
        }
        switch side {
        case .client:
            // The reply clock starts when the first outstanding command goes out.
            let waiting = session.awaitsServer
            perform(session.clientInput(buffer))
            if !waiting, session.awaitsServer { lastServerActivity = .now() }
        case .server:
            lastServerActivity = .now()
            perform(session.serverInput(buffer))
        }
    }

    // MARK: - Actions

    private func perform(_ actions: [ByteRelayAction]) {
        for action in actions {
            guard !closing else { return }
            switch action {
            case .sendToServer(let bytes):
                server?.write(bytes, promise: nil)
            case .sendToClient(let bytes):
                client.write(bytes, promise: nil)
            case .checkMessage(let id, let message, let what, let key):
                if let key { checkKeys[id] = key }
                startCheck(id, message, what: what)
            case .unchecked(let what):
                logger.notice("relayed unscanned: \(what)")
            case .replaceUnchecked(let id, let head, let what, let reason):
                // Answered on a later turn of the loop, as a check is: the session's output is
                // in order when the verdict comes.
                logger.notice("not scanned, replaced by a notice (BlockUnchecked = Yes): \(what)")
                checks += 1
                let notice = MailboxVerdict.notice(for: head, reason: reason)
                client.eventLoop.execute { self.checked(id, .deliver(notice)) }
            case .startTLSPassthrough:
                beginTLS()
            case .note(let text):
                logger.notice("\(text)")
            case .close(let reason):
                logger.debug("session closed: \(reason)")
                closeBoth()
            }
        }
        guard !closing else { return }
        client.flush()
        server?.flush()
        updateReading()
    }

    /// The server accepted STARTTLS/STLS: unwrap both legs, or relay the encrypted session blindly.
    private func beginTLS() {
        let upgrading = beginUpgrade(server: server) { [self] outcome in
            guard !closing else { return }
            switch outcome {
            case .unwrapped(let sni):
                session.tlsEstablished()
                logger.info("STARTTLS unwrapped", metadata: ["sni": "\(sni ?? "-")"])
                // The TLS set-up switched reading on; the relay takes over from that state.
                clientReading = true
                serverReading = true
                updateReading()
            case .blind:
                logger.info("STARTTLS: relaying the encrypted session unscanned")
                passthrough = true
            case .failed:
                closeBoth()
            }
        }
        if !upgrading {
            logger.info("STARTTLS accepted: relaying the encrypted session unscanned")
            passthrough = true
        }
    }

    // MARK: - Backpressure

    func writabilityChanged() { updateReading() }

    private var clientReading = false
    private var serverReading = false

    private func updateReading() {
        guard !closing, let server else { return }
        let clientShould = server.isWritable && session.acceptsClientInput
        if clientShould != clientReading {
            clientReading = clientShould
            client.setOption(ChannelOptions.autoRead, value: clientShould).whenFailure { _ in }
            if clientShould { client.read() }
        }
        let serverShould = client.isWritable && session.heldBytes <= holdLimit
        if serverShould != serverReading {
            serverReading = serverShould
            // The reply timeout counts only while the server is read.
            lastServerActivity = .now()
            server.setOption(ChannelOptions.autoRead, value: serverShould).whenFailure { _ in }
            if serverShould { server.read() }
        }
    }

    // MARK: - Timeout

    /// A server that does not answer a command within `serverReply` is given up on: both
    /// connections close (a POP3 or IMAP client reconnects). Servers have their own idle
    /// timeouts for silent clients.
    private func checkTimer() {
        if !closing, let started = tls.upgradeStarted,
           NIODeadline.now() - started > .nanoseconds(Int64(settings.timeouts.handshake / .nanoseconds(1))) {
            logger.warning("the TLS handshakes did not finish in time")
            closeBoth()
            return
        }
        guard !closing, !passthrough, serverReading, checks == 0, session.awaitsServer else { return }
        let limit = TimeAmount.nanoseconds(Int64(settings.timeouts.serverReply / .nanoseconds(1)))
        if NIODeadline.now() - lastServerActivity > limit {
            logger.warning("the server did not answer in time")
            closeBoth()
        }
    }

    // MARK: - The check

    private func startCheck(_ id: MailCheckID, _ message: [UInt8], what: String) {
        checks += 1
        var envelope = Envelope(source: Session.source, sender: nil, recipients: [], helo: nil,
                                clientAddress: info.clientAddress, clientPort: info.clientPort,
                                serverAddress: info.serverAddress, serverPort: info.serverPort)
        envelope.tls = tls.unwrapped
        envelope.sniHost = tls.sni
        let profile = context.profiles.current
        let core = context.core
        let loop = client.eventLoop
        let logger = logger
        Task {
            let decision = await core.decide(envelope: envelope, message: .bytes(message), profile: profile)
            let verdict = MailboxVerdict.verdict(for: decision, message: message, profile: profile)
            logger.info("\(Session.protocolName) \(what) checked: \(decision.action) (\(decision.reason))")
            loop.execute { self.checked(id, verdict) }
        }
    }

    private func checked(_ id: MailCheckID, _ verdict: MailCheckVerdict) {
        checks -= 1
        if let key = checkKeys.removeValue(forKey: id), case .deliver = verdict {
            context.knownBad.note(key, in: knownBadScope)
        }
        guard !closing else { return }
        // A verdict can send commands the client sent meanwhile (after a private IMAP fetch):
        // the reply clock starts then.
        let waiting = session.awaitsServer
        perform(session.verdict(id, verdict))
        if !waiting, session.awaitsServer { lastServerActivity = .now() }
        if serverGone, checks == 0 { closeBoth() }
    }
}

/// The core's decision about a message a client is reading from its mailbox, as the relay
/// carries it out. The message is already in the mailbox: a POP3 or IMAP client cannot be told
/// "rejected" (it would retry forever or show an error), so a refusal delivers a replacement.
enum MailboxVerdict {
    static func verdict(for decision: Decision, message: [UInt8], profile: CheckProfile) -> MailCheckVerdict {
        switch decision.action {
        case .pass, .scanMail:
            return .pass
        case .repack:
            if let repacked = decision.repackedMessage { return .deliver(repacked) }
            return .deliver(replacement(for: message, decision: decision, profile: profile, text: nil))
        case .reject(let text), .tempfail(let text):
            return .deliver(replacement(for: message, decision: decision, profile: profile, text: text))
        case .discard:
            return .deliver(replacement(for: message, decision: decision, profile: profile, text: nil))
        }
    }

    /// The repacked message when the report names parts to remove, else a short notice.
    static func replacement(for message: [UInt8], decision: Decision, profile: CheckProfile, text: String?) -> [UInt8] {
        let reason = text ?? decision.reason
        if let result = try? Repacker(settings: profile.repack).repack(message, report: decision.report, reason: reason) {
            return result.message
        }
        return notice(for: message, reason: reason)
    }

    /// A text/plain message with the original's From, To, Cc, Subject, Date and Message-ID
    /// saying it was blocked and why.
    static func notice(for message: [UInt8], reason: String) -> [UInt8] {
        let keep: Set<String> = ["from", "to", "cc", "subject", "date", "message-id"]
        var header: [UInt8] = []
        var copying = false
        var start = 0
        var index = 0
        // Header lines up to the first empty line; continuation lines follow their field.
        while index < message.count {
            guard let end = message[index...].firstIndex(of: 10) else { break }
            let line = Array(message[start...end])
            index = end + 1
            start = index
            if line == [13, 10] || line == [10] { break }
            if line.first == 32 || line.first == 9 {
                if copying { header += line }
                continue
            }
            let name = line.firstIndex(of: UInt8(ascii: ":")).map { String(decoding: line[..<$0], as: UTF8.self).lowercased() }
            copying = name.map { keep.contains($0.trimmingCharacters(in: .whitespaces)) } ?? false
            if copying {
                header += line
                if line.last == 10, line.dropLast().last != 13 { header.insert(13, at: header.count - 1) }
            }
        }
        let oneLine = reason.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        let body = "This message was blocked by Moat and is not delivered.\r\nReason: \(oneLine)\r\n"
        let text = "X-Moat-Blocked: \(oneLine)\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n\r\n" + body
        return header + Array(text.utf8)
    }
}

/// IMAP messages whose whole-message check ended in a replacement, remembered across
/// connections: a client that later fetches such a message by parts or byte ranges (which are
/// not scanned) gets empty content. Scoped by server and client address, because a message key
/// (mailbox, UIDVALIDITY, UID) names a message only within one account; the client address
/// stands in for the account, which the relay does not parse. Bounded: the oldest go first.
public final class KnownBadMessages: Sendable {
    struct Scope: Hashable, Sendable {
        var server: String
        var client: String
    }

    private struct State {
        var keys: [Scope: [IMAPMessageKey]] = [:]
        var order: [Scope] = []
    }

    private let state = Mutex(State())
    let perScope: Int
    let scopes: Int

    public init(perScope: Int = 1024, scopes: Int = 4096) {
        self.perScope = perScope
        self.scopes = scopes
    }

    func note(_ key: IMAPMessageKey, in scope: Scope) {
        state.withLock { state in
            if state.keys[scope] == nil {
                state.order.append(scope)
                if state.order.count > scopes { state.keys[state.order.removeFirst()] = nil }
            }
            var keys = state.keys[scope] ?? []
            guard !keys.contains(key) else { return }
            keys.append(key)
            if keys.count > perScope { keys.removeFirst(keys.count - perScope) }
            state.keys[scope] = keys
        }
    }

    func keys(_ scope: Scope) -> [IMAPMessageKey] {
        state.withLock { $0.keys[scope] ?? [] }
    }
}
