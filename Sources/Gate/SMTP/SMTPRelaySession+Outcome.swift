import NIOCore

/// The check's outcome, the message sent, TLS, timers and failures.
extension SMTPRelaySession {
    public mutating func checkCompleted(_ outcome: CheckOutcome) -> [RelayAction] {
        guard state == .checking else { return [] }
        var actions: [RelayAction] = []
        switch outcome {
        case .deliver:
            state = .awaitingUpstreamData
            expectations.append(.upstreamData)
            actions.append(.sendToServer(ByteBuffer(string: "DATA\r\n")))
            return actions
        case .reject(let text):
            actions.append(.sendToClient(ByteBuffer(string: "550 5.7.1 \(Self.oneLine(text))\r\n")))
        case .tempfail(let text):
            actions.append(.sendToClient(ByteBuffer(string: "451 4.7.1 \(Self.oneLine(text))\r\n")))
        case .storageFull:
            actions.append(.sendToClient(ByteBuffer(string: "452 4.3.1 Insufficient system storage, try again later\r\n")))
        case .localError:
            // Moat itself failed (a spool file could not be written or read): never a pass.
            actions.append(.sendToClient(ByteBuffer(string: "451 4.3.0 Local error in processing, try again later\r\n")))
        case .discard:
            actions.append(.sendToClient(ByteBuffer(string: "250 2.0.0 Ok: message discarded by the content policy\r\n")))
        }
        endTransaction(resetUpstream: true, &actions)
        drainHeld(&actions)
        return actions
    }

    public mutating func messageSent() -> [RelayAction] { [] }

    /// Part of the message went upstream without its final dot: closing the connection makes
    /// the server drop the transaction; the client is told to try again.
    public mutating func messageFailed() -> [RelayAction] {
        fail("451 4.3.0 Local error in processing: the message could not be read back, try again later")
    }

    public mutating func keepAlive() -> [RelayAction] {
        guard needsKeepAlive else { return [] }
        expectations.append(.swallow)
        return [.sendToServer(ByteBuffer(string: "NOOP\r\n"))]
    }

    public mutating func tlsEstablished() {
        guard state == .tlsStarting else { return }
        state = .command
        expectations.removeAll()
        held.removeAll()
        reply.removeAll()
        transaction = Transaction()
        helo = nil
        skipping = 0
        discardingLine = false
        authContinuation = false
    }

    // MARK: - Failures

    public mutating func serverClosed(connected: Bool) -> [RelayAction] {
        switch state {
        case .closed: return []
        case .tlsStarting:
            state = .closed
            return [.close]
        default:
            return fail(connected ? "421 4.4.2 The connection to the mail server was lost, try again later"
                                  : "421 4.4.1 The mail server cannot be reached, try again later")
        }
    }

    public mutating func serverTimedOut() -> [RelayAction] {
        guard state != .closed, state != .tlsStarting else { return [] }
        return fail("421 4.4.2 The mail server did not answer in time, try again later")
    }

    public mutating func clientTimedOut() -> [RelayAction] {
        guard state != .closed, state != .tlsStarting else { return [] }
        return fail("421 4.4.2 Error: timeout exceeded")
    }

    mutating func fail(_ text: String) -> [RelayAction] {
        state = .closed
        expectations.removeAll()
        held.removeAll()
        return [.sendToClient(ByteBuffer(string: text + "\r\n")), .close]
    }
}
