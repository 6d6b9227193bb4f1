import InterfaceSupport
import Logging
import MailD
import NIOCore

/// One relayed connection, whatever its protocol: the accepted client channel glued to the
/// Gate's upstream channel, the bytes of each leg fed to a `RelaySession` (SMTP, POP3, IMAP;
/// nil: a blind relay) whose `RelayAction`s it carries out. It owns what the sessions must
/// not: both channels, backpressure, the timers, the spool, the core's checks (tasks that are
/// cancelled when the connection closes), streaming stored messages, and TLS upgrades.
///
/// Everything runs on the client channel's event loop (hence `@unchecked Sendable`: the
/// handlers and futures that call in are all on that loop); the only work elsewhere is the
/// core's check and the spool's file I/O, whose results hop back.
final class RelayShell<Session: RelaySession>: @unchecked Sendable {
    let client: any Channel
    var server: (any Channel)?
    var session: Session?
    let context: GateContext
    let settings: GateSettings
    let info: ConnectionInfo
    var logger: Logger

    var closing = false
    /// The server closed while checks ran: the client's connection closes once they are done.
    var serverGone = false
    var timer: RepeatedTask?
    var clientReading = false
    var serverReading = false
    /// The spool's writes are behind: the client is not read until they catch up.
    var spoolBehind = false
    var lastClientRead = NIODeadline.now()
    var lastServerRead = NIODeadline.now()
    var lastServerActivity = NIODeadline.now()
    /// Client bytes that came before the upstream connection (a held ClientHello of implicit
    /// TLS relayed untouched), bounded by `earlyLimit`.
    var early = ByteBuffer()
    static var earlyLimit: Int { 64 * 1024 }

    /// Set by the Gate when TLS may be unwrapped after STARTTLS/STLS.
    var startTLS: StartTLSUpgrade?
    /// TLS around the session (implicit TLS sets it at the start).
    var tls = RelayTLSState()
    /// Connects upstream; set by the Gate, run once the client channel is registered and
    /// active (its reads can only be started then).
    var connectUpstream: (() -> Void)?

    /// The SMTP message being received or held, and what of it goes out.
    var stored: StoredMessage?
    var outgoing: Outgoing?
    var streaming: Streaming?
    /// Checks under way: cancelled when the connection closes.
    let checks: ConnectionChecks
    /// IMAP messages whose check may make them known bad, by check.
    var checkKeys: [MailCheckID: IMAPMessageKey] = [:]
    let knownBadScope: KnownBadMessages.Scope

    /// Above this many bytes held by the session the server is not read (one message being
    /// checked may be up to MaxMessageSize; a little more lets the replies behind it queue).
    var holdLimit: Int { settings.maxMessageSize + (1 << 20) }

    init(client: any Channel, session: Session?, context: GateContext, settings: GateSettings, info: ConnectionInfo) {
        self.client = client
        self.session = session
        self.context = context
        self.settings = settings
        self.info = info
        var logger = context.logger
        logger[metadataKey: "client"] = "\(info.client)"
        logger[metadataKey: "server"] = "\(info.server)"
        logger[metadataKey: "protocol"] = "\(session == nil ? "blind" : Session.protocolName)"
        self.logger = logger
        knownBadScope = KnownBadMessages.Scope(server: info.server, client: info.clientAddress ?? "?")
        checks = ConnectionChecks(eventLoop: client.eventLoop, hook: context.checkHook)
        self.session?.connectionStarted(blockUnchecked: context.profiles.current.blockUnchecked,
                                        knownBad: context.knownBad.keys(knownBadScope))
    }

    // MARK: - Life cycle

    func clientActive() {
        let connect = connectUpstream
        connectUpstream = nil
        connect?()
    }

    /// The upstream channel is connected: start reading both sides.
    func serverConnected(_ channel: any Channel) {
        client.eventLoop.preconditionInEventLoop()
        server = channel
        if closing { channel.close(promise: nil); return }
        lastServerRead = .now()
        lastServerActivity = .now()
        lastClientRead = .now()
        logger.debug("relaying")
        if early.readableBytes > 0 {
            channel.writeAndFlush(early, promise: nil)
            early = ByteBuffer()
        }
        let tick = TimeAmount(settings.timeouts.tick)
        timer = client.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { [self] _ in checkTimers() }
        updateReading()
    }

    func serverConnectFailed(_ error: any Error) {
        client.eventLoop.preconditionInEventLoop()
        logger.warning("cannot connect to the server: \(error)")
        guard !closing else { return }
        if session != nil { perform(session!.serverClosed(connected: false)) }
        closeBoth()
    }

    func closed(_ side: RelaySide) {
        client.eventLoop.preconditionInEventLoop()
        guard !closing else { return }
        switch side {
        case .client:
            if session != nil { perform(session!.clientClosed()) }
            closeBoth()
        case .server:
            // Complete replies waiting for a verdict are still delivered: close once they are.
            if session != nil { perform(session!.serverClosed(connected: true)) }
            serverGone = true
            if checks.isEmpty { closeBoth() }
        }
    }

    func closeBoth() {
        guard !closing else { return }
        closing = true
        timer?.cancel()
        timer = nil
        checks.cancelAll()
        dropMessage()
        for channel in [client, server].compactMap({ $0 }) {
            // An empty write completes after everything written before it.
            channel.writeAndFlush(ByteBuffer()).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: - Input

    func read(_ side: RelaySide, _ buffer: ByteBuffer) {
        guard !closing else { return }
        switch side {
        case .client: lastClientRead = .now()
        case .server: lastServerRead = .now(); lastServerActivity = .now()
        }
        guard session != nil else {
            relayRaw(from: side, buffer)
            return
        }
        if tls.upgradeStarted != nil {
            // Between the positive reply and the end of the handshakes only TLS records are
            // expected, and the TLS handlers take those; plaintext here was injected.
            logger.notice("\(buffer.readableBytes) plaintext bytes from the \(side) during the TLS upgrade discarded")
            return
        }
        perform(side == .client ? session!.clientInput(buffer) : session!.serverInput(buffer))
    }

    private func relayRaw(from side: RelaySide, _ buffer: ByteBuffer) {
        if side == .client, server == nil {
            var buffer = buffer
            early.writeBuffer(&buffer)
            // Reading was switched on for the ClientHello: a client that goes on sending while
            // the upstream connection is made must not grow this without bound.
            if early.readableBytes > Self.earlyLimit {
                client.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            }
            return
        }
        (side == .client ? server : client)?.writeAndFlush(buffer, promise: nil)
    }

    // MARK: - Actions

    func perform(_ actions: [RelayAction]) {
        for action in actions {
            guard !closing else { return }
            switch action {
            case .sendToServer(let bytes):
                server?.write(bytes, promise: nil)
                lastServerActivity = .now()
            case .sendToClient(let bytes):
                client.write(bytes, promise: nil)
            case .storeBody(let bytes):
                store(bytes)
            case .dropBody:
                logger.notice("message larger than MaxMessageSize (\(settings.maxMessageSize) bytes): read and dropped, refused with 552")
                dropMessage()
            case .checkMessage(let request):
                checkStored(request)
            case .checkHeld(let held):
                checkHeld(held)
            case .replaceUnchecked(let id, let head, let what, let reason):
                // Answered on a later turn of the loop, as a check is: the session's output is
                // in order when the verdict comes.
                logger.notice("not scanned, replaced by a notice (BlockUnchecked = Yes): \(what)")
                let notice = MailboxReplacement.notice(for: head, reason: reason)
                runCheck { MailCheckVerdict.deliver(notice) } then: { [self] verdict in answer(id, verdict) }
            case .sendMessage(let side, let prefix, let dotStuffed, let suffix):
                sendMessage(to: side, prefix: prefix, dotStuffed: dotStuffed, suffix: suffix)
            case .startTLS:
                dropMessage()
                beginTLS()
            case .unrecognizedProtocol(let bytes):
                session = nil
                switch settings.unrecognizedProtocol {
                case .relay:
                    logger.notice("the server does not speak \(Session.protocolName): relaying blindly")
                    client.write(bytes, promise: nil)
                case .close:
                    logger.notice("the server does not speak \(Session.protocolName): closing (UnrecognizedProtocol = Close)")
                    closeBoth()
                }
            case .log(let level, let text):
                logger.log(level: level, "\(text)")
            case .close:
                closeBoth()
            }
        }
        guard !closing else { return }
        client.flush()
        server?.flush()
        updateReading()
    }

    private func store(_ bytes: ByteBuffer) {
        if stored == nil {
            stored = StoredMessage(threshold: min(context.profiles.current.spoolThreshold, settings.maxMessageSize),
                                   directory: settings.spoolDirectory, quota: context.spoolQuota, eventLoop: client.eventLoop)
        }
        guard let behind = stored!.append(bytes) else { return }
        spoolBehind = true
        behind.whenComplete { [self] _ in
            spoolBehind = false
            updateReading()
        }
    }

    func dropMessage() {
        stored?.remove()
        stored = nil
        outgoing = nil
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(Int64(duration / .nanoseconds(1)))
    }
}
