import NIOCore

/// The connection-wide part of a mailbox relay (POP3, IMAP), the same for both protocols: the
/// phase (relaying, STARTTLS/STLS outstanding or accepted, blind passthrough, closed), the
/// replies queued for the client in server order, and whether the server has closed.
///
/// The STARTTLS injection rules live here once: from the command line on, client bytes are
/// dropped until the server's reply; after an accepted reply server bytes are dropped too, and
/// only once every earlier reply reached the client does the session announce
/// `startTLSPassthrough`. A closed server is announced the same way: after the queued replies.
struct MailboxConnection<Held: Sendable, Action: MailboxRelayAction>: Sendable {
    enum Phase: Sendable, Equatable {
        case relaying
        /// STARTTLS/STLS forwarded; its reply has not come yet. Client bytes are dropped.
        case awaitingTLSReply
        /// The server accepted; waiting until everything before its reply reached the client.
        case tlsAccepted
        /// Both legs are relayed untouched (or, after `resumeAfterTLS`, relayed anew inside TLS).
        case passthrough
        case closed
    }

    private(set) var phase: Phase = .relaying
    /// Replies for the client; held ones wait for their verdict and hold back what follows.
    var output = OrderedRelayOutput<Held>()
    /// The server closed: the client's connection closes once `output` is delivered.
    private var serverEOF = false

    var isOpen: Bool { phase != .closed }
    /// The server's bytes are parsed (and the client's too, while `.relaying`).
    var parsesServer: Bool { phase == .relaying || phase == .awaitingTLSReply }

    /// What to do with client bytes before the session parses them: nil means parse them.
    func screenClient(_ bytes: ByteBuffer) -> [Action]? {
        switch phase {
        case .closed: []
        case .passthrough: [.sendToServer(bytes)]
        case .awaitingTLSReply, .tlsAccepted: Self.discarded(bytes, from: .client)
        case .relaying: nil
        }
    }

    /// What to do with server bytes before the session parses them: nil means parse them.
    func screenServer(_ bytes: ByteBuffer) -> [Action]? {
        switch phase {
        case .closed: []
        case .passthrough: [.sendToClient(bytes)]
        case .tlsAccepted: Self.discarded(bytes, from: .server)
        case .relaying, .awaitingTLSReply: nil
        }
    }

    /// The report for injected bytes, none for no bytes.
    static func discarded(_ bytes: ByteBuffer, from peer: RelayPeer) -> [Action] {
        bytes.readableBytes > 0 ? [.injectionDiscarded(from: peer, byteCount: bytes.readableBytes)] : []
    }

    /// The client's STARTTLS/STLS line went to the server.
    mutating func startTLSSent() {
        phase = .awaitingTLSReply
    }

    /// The server answered STARTTLS/STLS (a no-op unless one is outstanding).
    mutating func startTLSAnswered(accepted: Bool) {
        guard phase == .awaitingTLSReply else { return }
        phase = accepted ? .tlsAccepted : .relaying
    }

    /// The server closed. Nil: the session drops its partial response, then calls `flush`.
    mutating func serverClosed() -> [Action]? {
        switch phase {
        case .closed:
            return []
        case .passthrough:
            phase = .closed
            return [.close(.serverClosed)]
        case .relaying, .awaitingTLSReply, .tlsAccepted:
            serverEOF = true
            return nil
        }
    }

    /// The client closed: nothing queued for it matters any more.
    mutating func clientClosed() -> [Action] {
        guard phase != .closed else { return [] }
        phase = .closed
        output.removeAll()
        return [.close(.clientClosed)]
    }

    /// Both legs are TLS now and Moat holds the plaintext: parse again. False when no
    /// passthrough was announced (nothing to resume).
    mutating func resumeAfterTLS() -> Bool {
        guard phase == .passthrough else { return false }
        phase = .relaying
        return true
    }

    /// `actions`, then what is ready for the client, then the passthrough or the close that
    /// waited for the queue to empty.
    mutating func flush(_ actions: [Action]) -> [Action] {
        var actions = actions
        if let ready = output.drain() { actions.append(.sendToClient(ready)) }
        if output.isEmpty {
            if phase == .tlsAccepted {
                phase = .passthrough
                actions.append(.startTLSPassthrough)
            } else if serverEOF && phase != .closed {
                phase = .closed
                actions.append(.close(.serverClosed))
            }
        }
        return actions
    }

    /// `actions`, what is ready for the client (nothing held goes out), then the close.
    mutating func close(_ actions: [Action], _ reason: Action.CloseReason) -> [Action] {
        var actions = actions
        if let ready = output.drain() { actions.append(.sendToClient(ready)) }
        phase = .closed
        output.removeAll()
        actions.append(.close(reason))
        return actions
    }
}
