import Logging
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Terminates one client's TLS with a leaf from Moat's CA, after reaching and verifying the real
/// server over TLS. Used at the start of implicit TLS (SMTPS 465, IMAPS 993, POP3S 995) and in
/// the middle of a relayed session once the server accepted STARTTLS/STLS.
///
/// Order of events, which is what keeps Moat from laundering certificates:
/// 1. the client's ClientHello is read and held (its SNI names the server the client expects);
/// 2. the per-connection decision (`shouldUnwrap`: UnwrapSsl, the rules' `unwrap_ssl`, the
///    pass-through list) may say "relay untouched": the held ClientHello then goes to the real
///    server as it was and the session is relayed blindly, end to end encrypted;
/// 3. otherwise Moat's own handshake with the server runs, verifying its certificate (system
///    trust store + UpstreamCaCertificates, host name = SNI; port 25 relaxed per
///    VerifyMxCertificates);
/// 4. only when the server verified is a leaf issued (for the SNI and the server's own names)
///    and the client's handshake answered; a verification failure refuses the client (or, per
///    UpstreamVerifyFailure = Relay, relays it blindly when the upstream can still be replaced
///    by a fresh connection, i.e. for implicit TLS; after STARTTLS the server pair is remembered
///    and relayed blindly from the next connection on).
///
/// The client leg's handshake is watched: a client that refuses Moat's certificate is logged and,
/// per PassThroughRejectingClients, its pair with this server is relayed untouched for
/// PassThroughTime.
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
    }

    func intercept(client: any Channel, port: Int, settings: GateSettings, pair: TLSPassThroughList.Pair,
                   upstream: Upstream, callbacks: Callbacks) throws {
        let tls = self.tls
        let logger = self.logger
        let passThrough = self.passThrough
        let holder = SNIHolder()
        let sni = ByteToMessageHandler(SNIHandler { result in
            let name: String? = if case .hostname(let host) = result { Self.dnsName(host) } else { nil }
            let done = client.eventLoop.makePromise(of: Void.self)
            done.futureResult.whenComplete { _ in holder.deadline?.cancel(); holder.deadline = nil }
            guard callbacks.shouldUnwrap(name) else {
                do { try callbacks.blind() } catch { callbacks.failed() }
                done.succeed(())
                return done.futureResult
            }
            let policy = TLSInterception.policy(port: port, serverName: name, verifyMx: settings.verifyMxCertificates)
            let gate = HandshakeGate()
            let verification = UpstreamVerification()
            let configure: @Sendable (any Channel) throws -> Void = { channel in
                let handler = try tls.upstreamHandler(policy, serverName: name, verification: verification)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
                try channel.pipeline.syncOperations.addHandler(gate, position: .after(handler))
            }
            let connected: EventLoopFuture<any Channel>
            switch upstream {
            case .connect(let connect):
                connected = connect(configure)
            case .existing(let channel):
                connected = channel.eventLoop.makeCompletedFuture { try configure(channel); return channel }
            }
            connected.whenComplete { result in
                switch result {
                case .failure(let error):
                    logger.warning("cannot reach the server over TLS", metadata: ["error": "\(error)"])
                    callbacks.failed()
                    done.succeed(())
                case .success(let channel):
                    /// The server is not to be vouched for: refuse the client, or per the
                    /// settings relay it untouched (implicit TLS: a fresh connection gets the
                    /// held ClientHello; after STARTTLS the pair is relayed from the retry on).
                    @Sendable func notVouched(relay: Bool) {
                        channel.close(promise: nil)
                        if relay {
                            if upstream.replaceable, (try? callbacks.blind()) != nil { return }
                            passThrough.add(TLSPassThroughList.Pair(client: nil, server: pair.server),
                                            for: settings.passThroughTime)
                        }
                        callbacks.failed()
                    }
                    gate.onHandshake = { outcome in
                        defer { done.succeed(()) }
                        switch outcome {
                        case .success(let certificate):
                            // Opportunistic TLS (port 25) never refuses the server, but the
                            // client is only told what the server proved: a leaf from Moat's
                            // trusted CA, or one from the unverified CA that no client trusts.
                            let verified = policy != .opportunistic || verification.verified
                            if !verified {
                                logger.notice("the server's certificate does not prove its name (port 25, opportunistic)",
                                              metadata: ["sni": "\(name ?? "-")",
                                                         "action": "\(settings.unverifiedUpstream.rawValue)"])
                                if settings.unverifiedUpstream == .relay {
                                    notVouched(relay: true)
                                    return
                                }
                            }
                            do {
                                let leaf = try tls.clientHandler(serverName: name, upstream: verified ? certificate : nil,
                                                                 verified: verified)
                                let watcher = ClientHandshakeWatcher { error in
                                    Self.clientRefused(error, pair: pair, settings: settings, passThrough: passThrough,
                                                       sni: name, logger: logger)
                                }
                                // Right behind the SNI handler, which hands the held ClientHello on to it.
                                guard let sniHandler = holder.handler else { throw ChannelError.ioOnClosedChannel }
                                try client.pipeline.syncOperations.addHandler(leaf, position: .after(sniHandler))
                                try client.pipeline.syncOperations.addHandler(watcher, position: .after(leaf))
                                try callbacks.unwrapped(channel, name)
                                gate.release()
                                logger.debug("TLS unwrapped", metadata: ["sni": "\(name ?? "-")", "verified": "\(verified)"])
                            } catch {
                                logger.error("cannot unwrap TLS: \(error)")
                                channel.close(promise: nil)
                                callbacks.failed()
                            }
                        case .failure(let error):
                            logger.warning("the server's certificate failed verification: not unwrapping",
                                           metadata: ["sni": "\(name ?? "-")", "error": "\(error)",
                                                      "action": "\(settings.upstreamVerifyFailure.rawValue)"])
                            notVouched(relay: settings.upstreamVerifyFailure == .relay)
                        }
                    }
                }
            }
            return done.futureResult
        })
        holder.handler = sni
        // A client that sends no ClientHello (or one byte a second) would hold its connection
        // and a slot for ever: from here until the decision, HandshakeTimeout at most.
        let limit = settings.timeouts.handshake
        let deadline = client.eventLoop.scheduleTask(in: .nanoseconds(Int64(limit / .nanoseconds(1)))) {
            logger.notice("no TLS handshake within HandshakeTimeout (\(limit)): closing",
                          metadata: ["client": "\(pair.client ?? "?")", "server": "\(pair.server)"])
            client.close(promise: nil)
        }
        holder.deadline = deadline
        client.closeFuture.whenComplete { _ in deadline.cancel() }
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

    static func clientRefused(_ error: any Error, pair: TLSPassThroughList.Pair, settings: GateSettings,
                              passThrough: TLSPassThroughList, sni: String?, logger: Logger) {
        if case ChannelError.eof = error {
            logger.notice("the client closed the connection during the TLS handshake", metadata: ["sni": "\(sni ?? "-")"])
            return
        }
        let remembered = settings.passThroughRejectingClients
        logger.warning("the client refused Moat's certificate (does it trust Moat's CA? `moat-ctl certificate`)",
                       metadata: ["sni": "\(sni ?? "-")", "error": "\(error)",
                                  "next": "\(remembered ? "relayed untouched for \(settings.passThroughTime)" : "refused again")"])
        if remembered { passThrough.add(pair, for: settings.passThroughTime) }
    }
}

/// The SNI handler, known to its own callback only after it is made. Weak: the handler owns
/// the callback that owns this holder, and a strong reference back would keep every session's
/// handlers (and channels) alive after it ends.
private final class SNIHolder: @unchecked Sendable {
    weak var handler: ByteToMessageHandler<SNIHandler>?
    /// The handshake deadline, cancelled once the session is decided (unwrapped, blind, failed).
    var deadline: Scheduled<Void>?
}
