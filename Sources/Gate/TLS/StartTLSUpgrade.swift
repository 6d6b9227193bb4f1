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
