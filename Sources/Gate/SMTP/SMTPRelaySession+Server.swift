import NIOCore

/// What the server answers: replies matched to the commands that asked for them, in order.
extension SMTPRelaySession {
    public mutating func serverLine(_ line: MailLine) -> [RelayAction] {
        var actions: [RelayAction] = []
        switch state {
        case .closed, .tlsStarting:
            // After the 220 to STARTTLS, server bytes before TLS were injected (CVE-2011-0411,
            // server to client): they never reach the client.
            return []
        default:
            break
        }
        guard line.isComplete, let code = Self.replyCode(line) else {
            if state == .awaitingGreeting {
                state = .closed
                var bytes = ByteBuffer()
                for piece in reply { bytes.writeImmutableBuffer(piece.bytes) }
                bytes.writeImmutableBuffer(line.bytes)
                return [.unrecognizedProtocol(bytes)]
            }
            return fail("421 4.3.0 The mail server sent a reply that is not SMTP; closing")
        }
        reply.append(line)
        guard Self.isLastLine(line) else {
            if reply.count > 1000 { return fail("421 4.3.0 The mail server sent an endless reply; closing") }
            return []
        }
        let lines = reply
        reply = []
        flushLocal(&actions)
        guard let head = expectations.first, head.isServerReply else {
            // Unasked for: a server that closes the session (421 on idle) says so this way.
            // Anything else would be taken by the client as the answer to its next command.
            if code == 421 {
                actions.append(.sendToClient(Self.joined(lines)))
                state = .closed
                actions.append(.close)
                return actions
            }
            return actions + fail("421 4.3.0 The mail server sent a reply nobody asked for; closing")
        }
        if (300..<400).contains(code), !head.mayBeIntermediate {
            // A 354 (or any 3xx) to a command the Gate did not send as DATA or AUTH: whatever
            // the server thinks it is, the client's next lines must not reach it as its data.
            return actions + fail("421 4.3.0 The mail server asked for data nobody offered; closing")
        }
        expectations.removeFirst()
        handleReply(code, lines, to: head, &actions)
        guard state != .closed else { return actions }
        advance(&actions)
        drainHeld(&actions)
        return actions
    }

    mutating func handleReply(_ code: Int, _ lines: [MailLine], to expectation: Expectation,
                                      _ actions: inout [RelayAction]) {
        let positive = (200..<400).contains(code)
        switch expectation {
        case .greeting:
            state = .command
            actions.append(.sendToClient(Self.joined(lines)))
        case .relay:
            actions.append(.sendToClient(Self.joined(lines)))
        case .ehlo:
            actions.append(.sendToClient(code == 250 ? filterEHLO(lines) : Self.joined(lines)))
        case .mail(let sender):
            if positive { transaction = Transaction(sender: sender) }
            actions.append(.sendToClient(Self.joined(lines)))
        case .rcpt(let address):
            if positive { transaction.recipients.append(address) }
            actions.append(.sendToClient(Self.joined(lines)))
        case .auth:
            authContinuation = code == 334
            actions.append(.sendToClient(Self.joined(lines)))
        case .startTLS:
            actions.append(.sendToClient(Self.joined(lines)))
            if code == 220 {
                state = .tlsStarting
                expectations.removeAll()
                held.removeAll()
                actions.append(.startTLS)
            } else {
                state = .command
            }
        case .quit:
            actions.append(.sendToClient(Self.joined(lines)))
            // Nothing pipelined behind QUIT is answered or relayed: the session is over.
            state = .closed
            expectations.removeAll()
            held.removeAll()
            actions.append(.close)
        case .swallow:
            break
        case .upstreamData:
            if code == 354 {
                state = .sendingMessage
                expectations.insert(.endOfData, at: 0)
                actions.append(.sendMessage(to: .server, prefix: nil, dotStuffed: true, suffix: nil))
            } else {
                // The server's refusal of DATA is the transaction's final reply.
                actions.append(.sendToClient(Self.joined(lines)))
                endTransaction(resetUpstream: true, &actions)
            }
        case .endOfData:
            actions.append(.sendToClient(Self.joined(lines)))
            endTransaction(resetUpstream: false, &actions)
        case .local, .dataDecision:
            preconditionFailure("not a server reply")
        }
    }

    /// Gives the answers that are Moat's own once they reach the head of the queue.
    mutating func flushLocal(_ actions: inout [RelayAction]) {
        while let head = expectations.first {
            switch head {
            case .local(let text):
                expectations.removeFirst()
                actions.append(.sendToClient(ByteBuffer(string: text + "\r\n")))
            case .dataDecision:
                expectations.removeFirst()
                decideData(&actions)
            default:
                return
            }
        }
    }

    mutating func advance(_ actions: inout [RelayAction]) {
        flushLocal(&actions)
    }

    mutating func decideData(_ actions: inout [RelayAction]) {
        if transaction.sender == nil {
            actions.append(.sendToClient(ByteBuffer(string: "503 5.5.1 Error: need MAIL command\r\n")))
            state = .command
        } else if transaction.recipients.isEmpty {
            let text = transaction.recipientsTried == 0 ? "503 5.5.1 Error: need RCPT command"
                                                         : "554 5.5.1 Error: no valid recipients"
            actions.append(.sendToClient(ByteBuffer(string: text + "\r\n")))
            state = .command
        } else {
            actions.append(.sendToClient(ByteBuffer(string: "354 End data with <CR><LF>.<CR><LF>\r\n")))
            state = .receivingData
            data = SMTPDataReader()
            received = 0
            tooLarge = false
        }
    }

    mutating func endTransaction(resetUpstream: Bool, _ actions: inout [RelayAction]) {
        transaction = Transaction()
        state = .command
        if resetUpstream {
            expectations.append(.swallow)
            actions.append(.sendToServer(ByteBuffer(string: "RSET\r\n")))
        }
    }
}
