import NIOCore

/// How a relay turns its two legs into TLS once the server accepted STARTTLS (SMTP, IMAP) or
/// STLS (POP3). The Gate gives one to every relay when TLS may be unwrapped; without it the
/// session is relayed blindly after the upgrade, encrypted and unscanned.
///
/// `begin` runs on the client's event loop right after the server's positive reply was
/// queued for the client; `done` is called on that loop, exactly once:
/// - `.unwrapped` before any plaintext of either leg reaches the relay (the relay starts its
///   session over there and then);
/// - `.blind` before the client's held ClientHello reaches the relay (which passes it on raw);
/// - `.failed`: the relay closes both legs.
struct StartTLSUpgrade: Sendable {
    enum Outcome: Sendable, Equatable {
        case unwrapped(sni: String?)
        case blind
        case failed
    }

    let begin: @Sendable (_ client: any Channel, _ server: any Channel,
                          _ done: @escaping @Sendable (Outcome) -> Void) -> Void
}

/// What a relay knows of the TLS around the session, for the envelope of each message.
struct RelayTLSState: Sendable, Equatable {
    /// Moat terminates TLS on both legs (the session was unwrapped).
    var unwrapped = false
    var sni: String?
    /// An upgrade is under way: its start, for the handshake timeout.
    var upgradeStarted: NIODeadline?
}

/// A relay that can run inside TLS Moat terminates: both `RelayConnection` and `ByteRelayConnection`.
protocol TLSCapableRelay: RelayEndpoint {
    var startTLS: StartTLSUpgrade? { get set }
    var tls: RelayTLSState { get set }
}

extension TLSCapableRelay {
    /// Starts upgrading both legs after the server's go-ahead (false: no upgrade is possible,
    /// the relay goes blind). `finish` runs on the client's loop with the TLS state updated.
    func beginUpgrade(server: (any Channel)?, finish: @escaping @Sendable (StartTLSUpgrade.Outcome) -> Void) -> Bool {
        guard let upgrade = startTLS, let server else { return false }
        tls.upgradeStarted = .now()
        // The go-ahead must reach the client before it can send its ClientHello.
        client.flush()
        upgrade.begin(client, server) { [self] outcome in
            client.eventLoop.preconditionInEventLoop()
            tls.upgradeStarted = nil
            if case .unwrapped(let sni) = outcome {
                tls.unwrapped = true
                tls.sni = sni
            }
            finish(outcome)
        }
        return true
    }
}

extension RelayConnection: TLSCapableRelay {}
extension ByteRelayConnection: TLSCapableRelay {}
