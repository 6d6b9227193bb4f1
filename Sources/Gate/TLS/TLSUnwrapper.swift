import Logging
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Terminates one client's TLS with a leaf from Moat's CA, after reaching and verifying the real
/// server over TLS. Used at the start of implicit TLS (SMTPS 465, IMAPS 993, POP3S 995) and in
/// the middle of a relayed session once the server accepted STARTTLS/STLS.
///
/// The decisions are `InterceptionMachine`'s; this is its driver on the channels:
/// 1. the client's ClientHello is read and held (its SNI names the server the client expects);
/// 2. the per-connection decision (`shouldUnwrap`) may say "relay untouched": the held
///    ClientHello then goes to the real server as it was;
/// 3. otherwise Moat's own handshake with the server runs, verifying its certificate;
/// 4. only when the server verified is a leaf issued and the client's handshake answered.
/// The client leg's handshake is watched: a client that refuses Moat's certificate is logged
/// and, per PassThroughRejectingClients, its pair relayed untouched for PassThroughTime.
struct TLSUnwrapper {
    let tls: TLSInterception
    let passThrough: TLSPassThroughList
    let logger: Logger

    /// Where the upstream TLS connection comes from.
    enum Upstream: Sendable {
        /// Implicit TLS: a new connection, whose pipeline `configure` sets up (TLS first).
        case connect(@Sendable (@escaping @Sendable (any Channel) throws -> Void) -> EventLoopFuture<any Channel>)
        /// STARTTLS: the relayed connection, just after the server accepted the command.
        case existing(any Channel)

        var replaceable: Bool { if case .connect = self { true } else { false } }
    }

    /// What happened to the client's TLS.
    struct Callbacks: Sendable {
        /// Should this session be unwrapped, given the client's SNI?
        var shouldUnwrap: @Sendable (String?) -> Bool
        /// Both legs are TLS, Moat holds the plaintext: attach or resume the relay on `upstream`.
        /// Called on the client's event loop before the client's handshake is answered.
        var unwrapped: @Sendable (_ upstream: any Channel, _ sni: String?) throws -> Void
        /// Relay raw bytes from now on; the held ClientHello follows into the relay.
        var blind: @Sendable () throws -> Void
        /// Give up on the session: both legs are closed by the caller.
        var failed: @Sendable () -> Void
        /// A pair went on the pass-through list (after `TLSPassThroughList.add`): implicit TLS
        /// hands it on to the kernel; STARTTLS never does (see `GateService.startImplicitTLS`).
        var learned: @Sendable (TLSPassThroughList.Pair, Duration) -> Void = { _, _ in }
    }

    func intercept(client: any Channel, port: Int, settings: GateSettings, pair: TLSPassThroughList.Pair,
                   upstream: Upstream, callbacks: Callbacks) throws {
        let driver = InterceptionDriver(
            machine: InterceptionMachine(settings: .init(settings, port: port, upstreamReplaceable: upstream.replaceable), pair: pair),
            client: client, tls: tls, passThrough: passThrough, logger: logger, upstream: upstream, callbacks: callbacks)
        let sni = ByteToMessageHandler(SNIHandler { [driver] result in
            let name: String? = if case .hostname(let host) = result { Self.dnsName(host) } else { nil }
            return driver.clientHello(sni: name)
        })
        driver.sniHandler = sni
        // A client that sends no ClientHello (or one byte a second) would hold its connection
        // and a slot for ever: from here until the decision, HandshakeTimeout at most.
        driver.startDeadline(settings.timeouts.handshake)
        // The ClientHello must be read before the relay takes over reading; the Gate accepts
        // with autoRead off, so reading is switched on here.
        try client.pipeline.syncOperations.addHandler(sni, position: .first)
        try client.pipeline.syncOperations.addHandler(ReadWhenActive(), position: .first)
    }

    /// The SNI as a host name, or nil: NIOTLS passes any ASCII, and a name with CR, LF or NUL
    /// would reach the `sni_host` rules, the upstream handshake, the leaf and the log. Only what
    /// a DNS name can hold counts (RFC 6066 3: HostName is a DNS host name); anything else is
    /// taken as no SNI at all.
    static func dnsName(_ host: String) -> String? {
        guard !host.isEmpty, host.utf8.count <= 253,
              host.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_")
                  || (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) })
        else { return nil }
        return host
    }
}

/// Carries out `InterceptionMachine`'s effects on the channels, and feeds it what happens.
/// Confined to the client's event loop (the upstream channel shares it), hence
/// `@unchecked Sendable`.
final class InterceptionDriver: @unchecked Sendable {
    private var machine: InterceptionMachine
    private let client: any Channel
    private let tls: TLSInterception
    private let passThrough: TLSPassThroughList
    private var logger: Logger
    private let upstream: TLSUnwrapper.Upstream
    private let callbacks: TLSUnwrapper.Callbacks
    /// The SNI handler holds the ClientHello until `decided` completes. Weak: the handler owns
    /// the callback that owns this driver.
    weak var sniHandler: ByteToMessageHandler<SNIHandler>?
    private var decided: EventLoopPromise<Void>?
    private var deadline: Scheduled<Void>?
    private var upstreamChannel: (any Channel)?
    private var gate: HandshakeGate?
    private let verification = UpstreamVerification()

    init(machine: InterceptionMachine, client: any Channel, tls: TLSInterception, passThrough: TLSPassThroughList,
         logger: Logger, upstream: TLSUnwrapper.Upstream, callbacks: TLSUnwrapper.Callbacks) {
        self.machine = machine
        self.client = client
        self.tls = tls
        self.passThrough = passThrough
        self.logger = logger
        self.upstream = upstream
        self.callbacks = callbacks
        self.logger[metadataKey: "client"] = "\(machine.pair.client ?? "?")"
        self.logger[metadataKey: "server"] = "\(machine.pair.server)"
    }

    func startDeadline(_ limit: Duration) {
        let scheduled = client.eventLoop.scheduleTask(in: TimeAmount(limit)) { [self] in handle(.deadline) }
        deadline = scheduled
        client.closeFuture.whenComplete { _ in scheduled.cancel() }
    }

    /// The SNI handler's callback: the ClientHello moves on when the returned future completes.
    func clientHello(sni: String?) -> EventLoopFuture<Void> {
        let decided = client.eventLoop.makePromise(of: Void.self)
        self.decided = decided
        handle(.clientHello(sni: sni, unwrap: callbacks.shouldUnwrap(sni)))
        return decided.futureResult
    }

    private func handle(_ event: InterceptionMachine.Event) {
        for effect in machine.handle(event) { perform(effect) }
    }

    private func perform(_ effect: InterceptionMachine.Effect) {
        switch effect {
        case .connectUpstream(let policy, let serverName):
            connectUpstream(policy, serverName: serverName)
        case .answerClient(let sni, let certificate, let verified):
            answerClient(sni: sni, upstream: certificate, verified: verified)
        case .relayBlind:
            do { try callbacks.blind() } catch { handle(.blindFailed) }
        case .closeUpstream:
            upstreamChannel?.close(promise: nil)
        case .passThrough(let pair, let duration):
            passThrough.add(pair, for: duration)
            callbacks.learned(pair, duration)
        case .cancelDeadline:
            deadline?.cancel()
            deadline = nil
            release()
        case .fail:
            callbacks.failed()
            release()
        case .closeClient:
            client.close(promise: nil)
        case .log(let level, let text, let sni):
            logger.log(level: level, "\(text)", metadata: ["sni": "\(sni ?? "-")"])
        }
    }

    /// Lets the held ClientHello go on (once).
    private func release() {
        let decided = self.decided
        self.decided = nil
        decided?.succeed(())
    }

    private func connectUpstream(_ policy: TLSInterception.UpstreamPolicy, serverName: String?) {
        let gate = HandshakeGate()
        self.gate = gate
        let tls = tls, verification = verification
        let configure: @Sendable (any Channel) throws -> Void = { channel in
            let handler = try tls.upstreamHandler(policy, serverName: serverName, verification: verification)
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            try channel.pipeline.syncOperations.addHandler(gate, position: .after(handler))
        }
        let connected: EventLoopFuture<any Channel>
        switch upstream {
        case .connect(let connect): connected = connect(configure)
        case .existing(let channel): connected = channel.eventLoop.makeCompletedFuture { try configure(channel); return channel }
        }
        connected.whenComplete { [self] result in
            switch result {
            case .failure(let error):
                handle(.upstreamUnreachable(error))
            case .success(let channel):
                upstreamChannel = channel
                gate.onHandshake = { [self] outcome in
                    // A DANE refusal fails the handshake with a generic error; say why.
                    if case .failure = outcome, let why = verification.refusal {
                        handle(.upstreamHandshake(.failure(DANERefusal(reason: why)), provedName: false))
                    } else {
                        handle(.upstreamHandshake(outcome, provedName: verification.verified))
                    }
                }
            }
        }
    }

    private func answerClient(sni: String?, upstream certificate: Certificate?, verified: Bool) {
        do {
            guard let sniHandler, let upstreamChannel else { throw ChannelError.ioOnClosedChannel }
            let leaf = try tls.clientHandler(serverName: sni, upstream: certificate, verified: verified)
            let watcher = ClientHandshakeWatcher { [self] error in
                handle(.clientHandshakeFailed(Self.isEOF(error) ? ChannelErrorKind.eof : error))
            }
            // Right behind the SNI handler, which hands the held ClientHello on to it.
            try client.pipeline.syncOperations.addHandler(leaf, position: .after(sniHandler))
            try client.pipeline.syncOperations.addHandler(watcher, position: .after(leaf))
            try callbacks.unwrapped(upstreamChannel, sni)
            gate?.release()
            logger.debug("TLS unwrapped", metadata: ["sni": "\(sni ?? "-")", "verified": "\(verified)"])
        } catch {
            handle(.clientSetupFailed(error))
        }
    }

    private static func isEOF(_ error: any Error) -> Bool {
        if case ChannelError.eof = error { return true }
        return false
    }
}
