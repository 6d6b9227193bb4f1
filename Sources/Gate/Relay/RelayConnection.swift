import Foundation
import Logging
import MailD
import NIOCore
import Policy

/// Who talks to whom, as the accepted socket tells: the peer is the client, the local address
/// (the socket was diverted with TPROXY) is the server it wanted.
public struct ConnectionInfo: Sendable, Hashable {
    public var clientAddress: String?
    public var clientPort: Int?
    public var serverAddress: String?
    public var serverPort: Int?

    public init(clientAddress: String? = nil, clientPort: Int? = nil, serverAddress: String? = nil, serverPort: Int? = nil) {
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.serverAddress = serverAddress
        self.serverPort = serverPort
    }
}

/// What every relayed connection shares: the core, the profile and the settings in force.
public struct GateContext: Sendable {
    public var core: MailCore
    public var profiles: ProfileCache
    public var logger: Logger
    /// IMAP messages known bad, shared by all connections of this Gate.
    public var knownBad: KnownBadMessages
    /// What all SMTP messages held at once may take (MaxSpoolSize).
    let spoolQuota: SpoolQuota
    /// Tests: called before each chunk of a spooled message is read back (path, chunk number),
    /// to make the spool fail the way a disk does.
    var spoolReadHook: (@Sendable (_ path: String, _ chunk: Int) -> Void)?

    public init(core: MailCore, profiles: ProfileCache, logger: Logger, knownBad: KnownBadMessages = KnownBadMessages(),
                spoolLimit: Int = GateSettings().maxSpoolSize) {
        self.core = core
        self.profiles = profiles
        self.logger = logger
        self.knownBad = knownBad
        self.spoolQuota = SpoolQuota(limit: spoolLimit)
    }
}

/// One relayed connection: the accepted client channel glued to the Gate's upstream channel,
/// driven by a protocol session (nil: a blind relay). Everything runs on the client channel's
/// event loop; the only work elsewhere is the core's check, whose result hops back.
///
/// Backpressure: a side that cannot take more writes stops reads on the other; the client is
/// also not read while the session holds its input (`wantsClientInput`).
final class RelayConnection<Session: RelayProtocolSession>: RelayEndpoint, @unchecked Sendable {
    let client: any Channel
    private(set) var server: (any Channel)?
    private var session: Session?
    private let context: GateContext
    private let settings: GateSettings
    let info: ConnectionInfo
    private var logger: Logger

    private var clientLines = NIOSingleStepByteToMessageProcessor(MailLineDecoder())
    private var serverLines = NIOSingleStepByteToMessageProcessor(MailLineDecoder())
    /// TLS starts: lines still being decoded from the current read are not taken, and both
    /// decoders are replaced (their buffered bytes dropped) once that read is done.
    private var discardDecoded = false
    private var sink: MessageSink?
    private var outgoing: Outgoing?
    private var closing = false
    private var timer: RepeatedTask?
    private var clientReading = false
    private var serverReading = true
    private var lastClientRead = NIODeadline.now()
    private var lastServerRead = NIODeadline.now()
    private var lastServerWrite = NIODeadline.now()
    /// Set by the Gate when TLS may be unwrapped after STARTTLS.
    var startTLS: StartTLSUpgrade?
    /// TLS around the session (implicit TLS sets it at the start).
    var tls = RelayTLSState()

    struct Outgoing {
        var headers: [UInt8]
        var body: [UInt8]?
        var path: String?
        var size: Int
    }

    init(client: any Channel, session: Session?, context: GateContext, settings: GateSettings, info: ConnectionInfo) {
        self.client = client
        self.session = session
        self.context = context
        self.settings = settings
        self.info = info
        var logger = context.logger
        logger[metadataKey: "client"] = "\(info.clientAddress ?? "?"):\(info.clientPort ?? 0)"
        logger[metadataKey: "server"] = "\(info.serverAddress ?? "?"):\(info.serverPort ?? 0)"
        logger[metadataKey: "protocol"] = "\(session == nil ? "blind" : Session.protocolName)"
        self.logger = logger
    }

    var isBlind: Bool { session == nil }

    // MARK: - Life cycle

    /// Connects upstream; set by the Gate, run once the client channel is registered and active
    /// (its reads can only be started then).
    var connectUpstream: (() -> Void)?

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
        lastServerWrite = .now()
        lastClientRead = .now()
        logger.debug("relaying")
        if early.readableBytes > 0 {
            channel.writeAndFlush(early, promise: nil)
            early = ByteBuffer()
        }
        let tick = TimeAmount.nanoseconds(Int64(settings.timeouts.tick / .nanoseconds(1)))
        timer = client.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { [self] _ in checkTimers() }
        updateReading()
    }

    func serverConnectFailed(_ error: any Error) {
        client.eventLoop.preconditionInEventLoop()
        logger.warning("cannot connect to the server: \(error)")
        if session == nil { closeBoth(); return }
        perform(session!.serverClosed(connected: false))
    }

    func closed(_ side: RelaySide) {
        guard !closing else { return }
        switch side {
        case .client:
            closeBoth()
        case .server:
            if session == nil { closeBoth() } else { perform(session!.serverClosed(connected: true)) }
            if !closing { closeBoth() }
        }
    }

    private func closeBoth() {
        guard !closing else { return }
        closing = true
        timer?.cancel()
        timer = nil
        sink?.remove()
        sink = nil
        outgoing = nil
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
        case .server: lastServerRead = .now()
        }
        guard session != nil else {
            relayRaw(from: side, buffer)
            return
        }
        if tls.upgradeStarted != nil {
            // Between the server's 220 and the end of the handshakes only TLS records are
            // expected, and the TLS handlers take those; plaintext here was injected.
            logger.notice("\(buffer.readableBytes) plaintext bytes from the \(side) during the TLS upgrade discarded")
            return
        }
        do {
            switch side {
            case .client:
                try clientLines.process(buffer: buffer) { line in
                    guard !closing, !discardDecoded, session != nil else { return }
                    perform(session!.clientLine(line), flush: false)
                }
            case .server:
                try serverLines.process(buffer: buffer) { line in
                    guard !closing, !discardDecoded, session != nil else { return }
                    perform(session!.serverLine(line), flush: false)
                }
            }
        } catch {
            logger.warning("line decoding failed: \(error)")
            closeBoth()
        }
        if discardDecoded {
            // Bytes that came with the server's 220 or after the client's STARTTLS, in plaintext:
            // injected, never relayed (CVE-2011-0411, both directions).
            discardDecoded = false
            clientLines = NIOSingleStepByteToMessageProcessor(MailLineDecoder())
            serverLines = NIOSingleStepByteToMessageProcessor(MailLineDecoder())
        }
        flushBoth()
        updateReading()
    }

    /// Client bytes of a blind relay that came before the upstream connection (a held
    /// ClientHello of implicit TLS relayed untouched).
    private var early = ByteBuffer()
    static var earlyLimit: Int { 64 * 1024 }

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
        let target = side == .client ? server : client
        target?.writeAndFlush(buffer, promise: nil)
        if side == .client { lastServerWrite = .now() }
    }

    // MARK: - Actions

    private func perform(_ actions: [RelayAction], flush: Bool = true) {
        for action in actions {
            guard !closing else { return }
            switch action {
            case .sendToServer(let bytes):
                server?.write(bytes, promise: nil)
                lastServerWrite = .now()
            case .sendToClient(let bytes):
                client.write(bytes, promise: nil)
            case .storeBody(let bytes):
                if sink == nil {
                    sink = MessageSink(threshold: min(context.profiles.current.spoolThreshold, settings.maxMessageSize),
                                       directory: settings.spoolDirectory, quota: context.spoolQuota)
                }
                sink!.append(bytes)
            case .dropBody:
                logger.notice("message larger than MaxMessageSize (\(settings.maxMessageSize) bytes): read and dropped, refused with 552")
                dropMessage()
            case .checkMessage(let request):
                startCheck(request)
            case .sendMessage(let side, let prefix, let dotStuffed, let suffix):
                sendMessage(to: side, prefix: prefix, dotStuffed: dotStuffed, suffix: suffix)
            case .startTLS:
                discardDecoded = true
                sink?.remove()
                sink = nil
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
            case .close:
                closeBoth()
            }
        }
        if flush { flushBoth(); updateReading() }
    }

    /// The server accepted STARTTLS: unwrap both legs, or relay the encrypted session blindly.
    private func beginTLS() {
        let upgrading = beginUpgrade(server: server) { [self] outcome in
            guard !closing else { return }
            switch outcome {
            case .unwrapped(let sni):
                session?.tlsEstablished()
                logger.info("STARTTLS unwrapped", metadata: ["sni": "\(sni ?? "-")"])
                // The TLS set-up switched reading on; the relay takes over from that state.
                clientReading = true
                updateReading()
            case .blind:
                logger.info("STARTTLS: relaying the encrypted session unscanned")
                session = nil
            case .failed:
                closeBoth()
            }
        }
        if !upgrading {
            logger.info("STARTTLS accepted: relaying the encrypted session unscanned")
            session = nil
        }
    }

    private func flushBoth() {
        guard !closing else { return }
        client.flush()
        server?.flush()
    }

    // MARK: - Backpressure

    func writabilityChanged() { updateReading() }

    private func updateReading() {
        guard !closing, let server else { return }
        let clientShould = server.isWritable && (session?.wantsClientInput ?? true)
        if clientShould != clientReading {
            clientReading = clientShould
            client.setOption(ChannelOptions.autoRead, value: clientShould).whenFailure { _ in }
            if clientShould { client.read() }
        }
        // Only on a change: setting a channel option is not free, and this runs on every read.
        if client.isWritable != serverReading {
            serverReading = client.isWritable
            server.setOption(ChannelOptions.autoRead, value: serverReading).whenFailure { _ in }
        }
    }

    // MARK: - Timers

    private func checkTimers() {
        guard !closing else { return }
        let now = NIODeadline.now()
        func elapsed(_ since: NIODeadline, _ limit: Duration) -> Bool {
            now - since > .nanoseconds(Int64(limit / .nanoseconds(1)))
        }
        guard let current = session else {
            // A blind relay has no protocol turns to time; a connection silent both ways this
            // long is a held slot, not a session.
            if elapsed(max(lastClientRead, lastServerRead), settings.timeouts.blindIdle) {
                logger.info("blind relay idle for \(settings.timeouts.blindIdle): closing")
                closeBoth()
            }
            return
        }
        if let started = tls.upgradeStarted {
            if elapsed(started, settings.timeouts.handshake) {
                logger.warning("the TLS handshakes did not finish in time")
                closeBoth()
            }
            return
        }
        if current.awaitsServer, elapsed(max(lastServerRead, lastServerWrite), settings.timeouts.serverReply) {
            logger.warning("the server did not answer in time")
            perform(session!.serverTimedOut())
        } else if current.needsKeepAlive, elapsed(lastServerWrite, settings.timeouts.keepAlive) {
            perform(session!.keepAlive())
        } else if current.awaitsClient, elapsed(lastClientRead, settings.timeouts.clientIdle) {
            logger.info("the client stayed silent too long")
            perform(session!.clientTimedOut())
        }
    }

    // MARK: - The check

    private func startCheck(_ request: MessageCheckRequest) {
        let message = sink ?? MessageSink(threshold: Int.max, directory: settings.spoolDirectory)
        sink = message
        let profile = context.profiles.current
        switch message.failure {
        case .quota?:
            logger.warning("the Gate's spool is full (MaxSpoolSize \(settings.maxSpoolSize) bytes in use by messages held): message refused for now")
            finishCheck(.storageFull)
            return
        case .io(let code)?:
            logger.error("cannot spool the message in \(settings.spoolDirectory): \(String(cString: strerror(code)))")
            finishCheck(.localError)
            return
        case nil:
            break
        }
        if message.size > settings.maxMessageSize {
            // The session stops storing at the limit; should more ever arrive, it is not checked
            // and not sent.
            logger.error("message of \(message.size) bytes held past MaxMessageSize: refused")
            finishCheck(.localError)
            return
        }
        var envelope = Envelope(source: request.source, sender: request.sender, recipients: request.recipients,
                                helo: request.helo, clientAddress: info.clientAddress, clientPort: info.clientPort,
                                serverAddress: info.serverAddress, serverPort: info.serverPort)
        envelope.tls = tls.unwrapped
        envelope.sniHost = tls.sni
        let source = message.source
        let core = context.core
        let loop = client.eventLoop
        Task {
            let decision = await core.decide(envelope: envelope, message: source, profile: profile)
            loop.execute { self.checked(decision, message: message) }
        }
    }

    private func checked(_ decision: Decision, message: MessageSink) {
        guard !closing, sink === message else { message.remove(); return }
        switch decision.action {
        case .pass, .scanMail:
            let headers = Self.headerBlock(decision.headersToAdd)
            outgoing = Outgoing(headers: headers, body: message.memory, path: message.path,
                                size: headers.count + message.size)
            finishCheck(.deliver(size: headers.count + message.size))
        case .repack:
            guard let repacked = decision.repackedMessage else {
                finishCheck(.tempfail(FinalAction.defaultTempfailText))
                return
            }
            outgoing = Outgoing(headers: [], body: repacked, path: nil, size: repacked.count)
            finishCheck(.deliver(size: repacked.count))
        case .reject(let text):
            finishCheck(.reject(text ?? FinalAction.defaultRejectText))
        case .tempfail(let text):
            finishCheck(.tempfail(text ?? FinalAction.defaultTempfailText))
        case .discard:
            finishCheck(.discard)
        }
    }

    private func finishCheck(_ outcome: CheckOutcome) {
        if case .deliver = outcome {} else { dropMessage() }
        guard session != nil else { return }
        perform(session!.checkCompleted(outcome))
    }

    private func dropMessage() {
        sink?.remove()
        sink = nil
        outgoing = nil
    }

    /// `Name: value` lines; values outside ASCII as RFC 2047 base64 words.
    static func headerBlock(_ fields: [(name: String, value: String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in fields {
            let text = value.isEmpty ? "" : SMTPRelaySession.oneLine(value)
            let encoded = text.utf8.allSatisfy({ $0 < 0x80 })
                ? text : "=?UTF-8?B?" + Data(text.utf8).base64EncodedString() + "?="
            out += Array("\(name): \(encoded)\r\n".utf8)
        }
        return out
    }

    // MARK: - Sending the checked message

    /// The message being streamed from its spool file.
    private struct Streaming {
        var handle: FileHandle
        var path: String
        var channel: any Channel
        var side: RelaySide
        var stuffer: DotStuffer?
        var suffix: ByteBuffer?
        /// Bytes of the spool file still to come: what was checked is what goes out, byte for
        /// byte, or nothing does (a file that shrank or grew under the relay is not the message).
        var remaining: Int
        var chunk = 0
    }
    private var streaming: Streaming?

    private func sendMessage(to side: RelaySide, prefix: ByteBuffer?, dotStuffed: Bool, suffix: ByteBuffer?) {
        guard let outgoing, let channel = side == .server ? server : client else {
            closeBoth()
            return
        }
        var stuffer: DotStuffer? = dotStuffed ? DotStuffer() : nil
        var head = ByteBuffer()
        if let prefix { head.writeImmutableBuffer(prefix) }
        Self.put(outgoing.headers, &stuffer, into: &head)
        if let body = outgoing.body {
            head.reserveCapacity(head.readableBytes + body.count + body.count / 32 + 8)
            Self.put(body, &stuffer, into: &head)
            Self.finish(&stuffer, suffix, into: &head)
            if side == .server { lastServerWrite = .now() }
            channel.writeAndFlush(head).whenComplete { [self] result in messageWritten(result) }
            return
        }
        guard let path = outgoing.path, let handle = FileHandle(forReadingAtPath: path) else {
            logger.error("the spooled message disappeared")
            closeBoth()
            return
        }
        streaming = Streaming(handle: handle, path: path, channel: channel, side: side, stuffer: stuffer, suffix: suffix,
                              remaining: outgoing.size - outgoing.headers.count)
        sendNextChunk(head)
    }

    /// One chunk in flight at a time: the socket's pace sets the reading pace.
    private func sendNextChunk(_ first: ByteBuffer? = nil) {
        guard var state = streaming else { return }
        guard !closing else { try? state.handle.close(); streaming = nil; return }
        var out = first ?? ByteBuffer()
        context.spoolReadHook?(state.path, state.chunk)
        state.chunk += 1
        let chunk: Data?
        do {
            chunk = try state.handle.read(upToCount: 256 * 1024)
            let count = chunk?.count ?? 0
            if count > state.remaining || (count == 0 && state.remaining > 0) {
                throw POSIXError(.EIO)
            }
            state.remaining -= count
        } catch {
            // What was read so far must never go out as the whole message: no final dot, the
            // next hop discards the transaction, and the client hears a temporary failure.
            logger.error("cannot read the spooled message back (\(error), \(state.remaining) bytes missing or extra): the transfer is aborted")
            try? state.handle.close()
            streaming = nil
            dropMessage()
            if session != nil { perform(session!.messageFailed()) } else { closeBoth() }
            return
        }
        if state.side == .server { lastServerWrite = .now() }
        if let chunk, !chunk.isEmpty {
            Self.put([UInt8](chunk), &state.stuffer, into: &out)
            streaming = state
            state.channel.writeAndFlush(out).whenComplete { [self] result in
                if case .failure = result {
                    try? streaming?.handle.close()
                    streaming = nil
                    messageWritten(result)
                } else {
                    sendNextChunk()
                }
            }
        } else {
            try? state.handle.close()
            streaming = nil
            Self.finish(&state.stuffer, state.suffix, into: &out)
            state.channel.writeAndFlush(out).whenComplete { [self] result in messageWritten(result) }
        }
    }

    private static func put(_ bytes: [UInt8], _ stuffer: inout DotStuffer?, into out: inout ByteBuffer) {
        if stuffer != nil { stuffer!.stuff(bytes, into: &out) } else { out.writeBytes(bytes) }
    }

    private static func finish(_ stuffer: inout DotStuffer?, _ suffix: ByteBuffer?, into out: inout ByteBuffer) {
        if stuffer != nil { stuffer!.finish(into: &out) }
        if let suffix { out.writeImmutableBuffer(suffix) }
    }

    private func messageWritten(_ result: Result<Void, any Error>) {
        dropMessage()
        guard !closing else { return }
        if case .failure(let error) = result {
            logger.warning("sending the message failed: \(error)")
            return
        }
        if session != nil { perform(session!.messageSent()) }
    }
}

/// What the two channels' handlers and the Gate's upstream connector need from a relay: the
/// line-based `RelayConnection` (SMTP) and the byte-based `ByteRelayConnection` (POP3, IMAP).
protocol RelayEndpoint: AnyObject, Sendable {
    var client: any Channel { get }
    /// Connects upstream; set by the Gate, run once the client channel is active.
    var connectUpstream: (() -> Void)? { get set }
    func clientActive()
    func serverConnected(_ channel: any Channel)
    func serverConnectFailed(_ error: any Error)
    func read(_ side: RelaySide, _ buffer: ByteBuffer)
    func closed(_ side: RelaySide)
    func writabilityChanged()
}

/// The thin handler on each of the two channels: bytes in, closes and writability to the relay.
final class RelaySideHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let side: RelaySide
    let relay: any RelayEndpoint

    init(side: RelaySide, relay: any RelayEndpoint) {
        self.side = side
        self.relay = relay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        relay.read(side, unwrapInboundIn(data))
    }

    func channelActive(context: ChannelHandlerContext) {
        if side == .client { relay.clientActive() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        relay.closed(side)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        relay.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
