import Logging
import X509

/// The interception of one client's TLS, as a state machine without I/O: events in (the
/// ClientHello, the upstream connection, the upstream handshake, the client's handshake,
/// the deadline), effects out. `TLSUnwrapper` is its thin driver on the channels.
///
/// The invariant that keeps Moat from laundering certificates lives here and is tested event
/// by event: a leaf is issued (`answerClient`) only after the upstream handshake succeeded,
/// and one from the trusted CA only when the server proved the name (or the chain, without
/// one) — on port 25's opportunistic TLS a server that did not gets a leaf from the untrusted
/// CA, or (`UnverifiedUpstream = Relay`) the session relayed untouched.
struct InterceptionMachine {
    enum State: Equatable {
        case awaitingClientHello
        /// Moat's own connection and handshake with the server run.
        case verifyingUpstream(sni: String?, policy: TLSInterception.UpstreamPolicy)
        /// The client's handshake is answered with a leaf; the relay is attached.
        case unwrapped(sni: String?)
        /// Relayed untouched: the held ClientHello goes to the server as it was.
        case blind
        case failed
    }

    enum Event {
        /// The ClientHello is in: its SNI (a DNS name or nil) and whether the session is to be
        /// unwrapped (UnwrapSsl, the rules' `unwrap_ssl`, the pass-through list).
        case clientHello(sni: String?, unwrap: Bool)
        case upstreamUnreachable(any Error)
        /// The upstream handshake ended: the server's certificate, and for opportunistic TLS
        /// whether it proved the name (`UpstreamTrust`).
        case upstreamHandshake(Result<Certificate?, any Error>, provedName: Bool)
        /// Issuing or installing the leaf failed.
        case clientSetupFailed(any Error)
        /// Relaying blindly could not start (implicit TLS: the fresh connection failed).
        case blindFailed
        /// The client's handshake with Moat's leaf failed (or it closed during it).
        case clientHandshakeFailed(any Error)
        /// HandshakeTimeout ran out.
        case deadline
    }

    enum Effect: Equatable {
        /// Connect (implicit TLS) or upgrade (STARTTLS) the upstream leg with this policy.
        case connectUpstream(TLSInterception.UpstreamPolicy, serverName: String?)
        /// Issue a leaf (from the trusted CA when `verified`) and answer the client's handshake.
        case answerClient(sni: String?, upstream: Certificate?, verified: Bool)
        case relayBlind
        case closeUpstream
        /// Relay this pair untouched for a while (nil client: every client of the server).
        case passThrough(TLSPassThroughList.Pair, Duration)
        /// The session is decided (unwrapped, blind or failed): the deadline no longer runs, and
        /// the held ClientHello moves on to what now follows it in the pipeline (the leaf's
        /// handler, or the blind relay), so this comes after `answerClient`/`relayBlind`.
        case cancelDeadline
        case fail
        case closeClient
        case log(Logger.Level, String, sni: String?)
    }

    struct Settings: Equatable {
        var port: Int
        var verifyMx: GateSettings.MxVerification
        var unverifiedUpstream: GateSettings.Unverified
        var upstreamVerifyFailure: GateSettings.VerifyFailure
        var passThroughRejectingClients: Bool
        var passThroughTime: Duration
        /// Implicit TLS: the upstream can be replaced by a fresh connection (the held
        /// ClientHello is still unanswered); after STARTTLS it cannot.
        var upstreamReplaceable: Bool

        init(_ settings: GateSettings, port: Int, upstreamReplaceable: Bool) {
            self.port = port
            verifyMx = settings.verifyMxCertificates
            unverifiedUpstream = settings.unverifiedUpstream
            upstreamVerifyFailure = settings.upstreamVerifyFailure
            passThroughRejectingClients = settings.passThroughRejectingClients
            passThroughTime = settings.passThroughTime
            self.upstreamReplaceable = upstreamReplaceable
        }
    }

    let settings: Settings
    let pair: TLSPassThroughList.Pair
    private(set) var state = State.awaitingClientHello

    init(settings: Settings, pair: TLSPassThroughList.Pair) {
        self.settings = settings
        self.pair = pair
    }

    mutating func handle(_ event: Event) -> [Effect] {
        switch (state, event) {
        case (.awaitingClientHello, .clientHello(let sni, let unwrap)):
            guard unwrap else {
                state = .blind
                return [.relayBlind, .cancelDeadline]
            }
            let policy = TLSInterception.policy(port: settings.port, serverName: sni, verifyMx: settings.verifyMx)
            state = .verifyingUpstream(sni: sni, policy: policy)
            return [.connectUpstream(policy, serverName: sni)]

        case (.verifyingUpstream(let sni, _), .upstreamUnreachable(let error)):
            state = .failed
            return [.log(.warning, "cannot reach the server over TLS: \(error)", sni: sni), .cancelDeadline, .fail]

        case (.verifyingUpstream(let sni, let policy), .upstreamHandshake(.success(let certificate), let provedName)):
            // Opportunistic TLS (port 25) never refuses the server, but the client is only
            // told what the server proved.
            let verified = !policy.mayBeUnproven || provedName
            var effects: [Effect] = []
            if !verified {
                effects.append(.log(.notice, "the server's certificate does not prove its name (port 25, opportunistic): UnverifiedUpstream = \(settings.unverifiedUpstream.rawValue)", sni: sni))
                if settings.unverifiedUpstream == .relay { return effects + notVouched(relay: true) }
            }
            state = .unwrapped(sni: sni)
            return effects + [.answerClient(sni: sni, upstream: verified ? certificate : nil, verified: verified), .cancelDeadline]

        case (.verifyingUpstream(let sni, _), .upstreamHandshake(.failure(let error), _)):
            return [.log(.warning, "the server's certificate failed verification, not unwrapping: \(error); UpstreamVerifyFailure = \(settings.upstreamVerifyFailure.rawValue)", sni: sni)]
                + notVouched(relay: settings.upstreamVerifyFailure == .relay)

        case (.unwrapped(let sni), .clientSetupFailed(let error)):
            state = .failed
            return [.log(.error, "cannot unwrap TLS: \(error)", sni: sni), .closeUpstream, .fail]

        case (.unwrapped(let sni), .clientHandshakeFailed(let error)):
            if case .eof? = error as? ChannelErrorKind {
                return [.log(.notice, "the client closed the connection during the TLS handshake", sni: sni)]
            }
            let remembered = settings.passThroughRejectingClients
            let next = remembered ? "relayed untouched for \(settings.passThroughTime)" : "refused again"
            return [.log(.warning, "the client refused Moat's certificate (does it trust Moat's CA? `moat-ctl certificate`): \(error); next: \(next)", sni: sni)]
                + (remembered ? [.passThrough(pair, settings.passThroughTime)] : [])

        case (.blind, .blindFailed):
            state = .failed
            return [.fail]

        case (.awaitingClientHello, .deadline), (.verifyingUpstream, .deadline):
            state = .failed
            return [.log(.notice, "no TLS handshake within HandshakeTimeout: closing", sni: nil), .closeClient]

        default:
            // Late or repeated events (a handshake result after the deadline closed the
            // client, a second error) change nothing.
            return []
        }
    }

    /// The server is not to be vouched for: refuse the client, or relay it untouched — at once
    /// when the upstream can be replaced by a fresh connection (implicit TLS), else from the
    /// client's retry on (the pair goes on the pass-through list).
    private mutating func notVouched(relay: Bool) -> [Effect] {
        if relay, settings.upstreamReplaceable {
            state = .blind
            return [.closeUpstream, .relayBlind, .cancelDeadline]
        }
        state = .failed
        let remember: [Effect] = relay ? [.passThrough(TLSPassThroughList.Pair(client: nil, server: pair.server), settings.passThroughTime)] : []
        return [.closeUpstream] + remember + [.cancelDeadline, .fail]
    }
}

/// The channel errors the machine tells apart, without importing the channel layer's types
/// into its events (the driver maps `ChannelError.eof` to `.eof`).
enum ChannelErrorKind: Error, Equatable {
    case eof
}
