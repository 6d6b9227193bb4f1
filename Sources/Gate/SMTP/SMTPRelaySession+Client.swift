import NIOCore

/// What the client sends: commands (parsed as servers parse them, rebuilt, relayed or refused), AUTH exchanges and the message.
extension SMTPRelaySession {
    public mutating func clientLine(_ line: MailLine) -> [RelayAction] {
        var actions: [RelayAction] = []
        var line = line
        if skipping > 0 {
            let n = min(skipping, line.bytes.readableBytes)
            line.bytes.moveReaderIndex(forwardBy: n)
            skipping -= n
            if line.bytes.readableBytes == 0 { return [] }
        }
        switch state {
        case .closed, .startTLSPending, .tlsStarting:
            // After STARTTLS nothing the client sent before TLS is up is trusted.
            return []
        case .awaitingDataDecision:
            // RFC 2920: DATA ends a pipelined group; the client waits for 354. Bytes here would
            // be commands to a server that refuses the DATA and body to one that accepts it.
            return fail("554 5.5.0 Error: SMTP protocol synchronization (data sent before the 354 reply)")
        case .receivingData:
            dataLine(line, &actions)
        case .command where held.isEmpty:
            command(line, &actions)
        default:
            held.append(line)
        }
        drainHeld(&actions)
        return actions
    }

    mutating func drainHeld(_ actions: inout [RelayAction]) {
        while !held.isEmpty {
            switch state {
            case .command:
                command(held.removeFirst(), &actions)
            case .receivingData:
                dataLine(held.removeFirst(), &actions)
            case .startTLSPending, .closed:
                held.removeAll()
            default:
                return
            }
        }
    }

    mutating func command(_ line: MailLine, _ actions: inout [RelayAction]) {
        if discardingLine {
            discardingLine = !line.isComplete
            return
        }
        guard line.isComplete else {
            discardingLine = true
            refuse("500 5.5.2 Error: line too long", &actions)
            return
        }
        if authContinuation {
            authContinuation = false
            authResponse(line, &actions)
            return
        }
        let command: SMTPCommand
        switch SMTPCommand.parse(line.bytes, limit: configuration.authLineLimit) {
        case .success(let parsed):
            guard parsed.verb == "AUTH" || line.bytes.readableBytes <= configuration.commandLineLimit else {
                refuse("500 5.5.2 Error: line too long", &actions)
                return
            }
            command = parsed
        case .failure(.tooLong):
            refuse("500 5.5.2 Error: line too long", &actions)
            return
        case .failure(.empty):
            refuse("500 5.5.2 Error: bad syntax", &actions)
            return
        case .failure(.nul), .failure(.bareCR):
            refuse("500 5.5.2 Error: bad syntax (NUL or bare CR in a command)", &actions)
            return
        }
        let verb = command.verb
        if Self.httpVerbs.contains(verb) || verb == "HOST:" {
            // ALPACA: a browser's request sent to a mail port (cross-protocol attack). Nothing
            // of it is relayed or echoed; the session ends here.
            actions += fail("421 4.7.0 Error: this is an SMTP server, not HTTP; closing")
            return
        }
        switch verb {
        case "EHLO", "HELO":
            helo = command.argumentText
            transaction = Transaction()
            forward(command, expecting: verb == "EHLO" ? .ehlo : .relay, &actions)
        case "MAIL":
            if let size = command.parameters().first(where: { $0.keyword == "SIZE" })?.value,
               SMTPCommand.decimal(Substring(size)).map({ $0 > configuration.maxMessageSize }) ?? true {
                answer("552 5.3.4 Message size exceeds fixed limit", &actions)
                return
            }
            forward(command, expecting: .mail(command.path(after: "FROM:")), &actions)
        case "RCPT":
            transaction.recipientsTried += 1
            forward(command, expecting: .rcpt(command.path(after: "TO:") ?? ""), &actions)
        case "DATA":
            guard command.argument.isEmpty else {
                answer("501 5.5.4 Syntax: DATA", &actions)
                return
            }
            state = .awaitingDataDecision
            expectations.append(.dataDecision)
            advance(&actions)
        case "BDAT":
            let size = command.argumentText.split(whereSeparator: { $0.isASCII && SMTPCommand.isSpace($0.asciiValue!) })
                .first.flatMap { SMTPCommand.decimal($0) }
            guard let size, size <= configuration.maxMessageSize else {
                // How many bytes follow cannot be known (or is too many to read through): the
                // client's next bytes could be anything.
                actions += fail(size == nil ? "501 5.5.4 Syntax: BDAT count [LAST]; closing"
                                            : "552 5.3.4 Message size exceeds fixed limit; closing")
                return
            }
            skipping = size
            answer("502 5.5.1 Error: BDAT is not supported here (CHUNKING is not offered)", &actions)
        case "RSET":
            transaction = Transaction()
            forward(command, expecting: .relay, &actions)
        case "STARTTLS":
            forward(command, expecting: .startTLS, &actions)
            state = .startTLSPending
            held.removeAll()
        case "AUTH":
            forward(command, expecting: .auth, &actions)
        case "QUIT":
            forward(command, expecting: .quit, &actions)
        case _ where configuration.refusedCommands.contains(verb):
            refuse("502 5.5.1 Error: command not available through this gateway", &actions)
        case _ where configuration.relayedCommands.contains(verb):
            forward(command, expecting: .relay, &actions)
        default:
            refuse("502 5.5.2 Error: command not recognized", &actions)
        }
    }

    static let httpVerbs: Set<String> = ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE"]

    /// The Gate's own refusal of a command; past `errorLimit` of them the session is closed.
    mutating func refuse(_ text: String, _ actions: inout [RelayAction]) {
        errors += 1
        if errors > configuration.errorLimit {
            actions += fail("421 4.7.0 Error: too many errors; closing")
            return
        }
        answer(text, &actions)
    }

    /// A SASL response line (base64, or "*" to cancel): passed on with its line end made CRLF;
    /// never a command, never a NUL or bare CR.
    mutating func authResponse(_ line: MailLine, _ actions: inout [RelayAction]) {
        var bytes = Array(line.bytes.readableBytesView)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        if bytes.count + 2 > configuration.authLineLimit || bytes.contains(0) || bytes.contains(UInt8(ascii: "\r")) {
            // The server waits for a response: "*" cancels its exchange (RFC 4954 4), and its
            // answer to that ends the client's AUTH.
            bytes = [UInt8(ascii: "*")]
        }
        var out = ByteBuffer(bytes: bytes)
        out.writeString("\r\n")
        expectations.append(.auth)
        actions.append(.sendToServer(out))
    }

    mutating func forward(_ command: SMTPCommand, expecting: Expectation, _ actions: inout [RelayAction]) {
        expectations.append(expecting)
        actions.append(.sendToServer(command.wire))
    }

    /// A reply of Moat's own, given in its turn after the replies still outstanding.
    mutating func answer(_ text: String, _ actions: inout [RelayAction]) {
        expectations.append(.local(text))
        advance(&actions)
    }

    mutating func dataLine(_ line: MailLine, _ actions: inout [RelayAction]) {
        switch data.read(line) {
        case .end:
            if tooLarge {
                // Postfix's words; the server never saw this message, its transaction is reset.
                actions.append(.sendToClient(ByteBuffer(string: "552 5.3.4 Error: message file too big\r\n")))
                endTransaction(resetUpstream: true, &actions)
                return
            }
            state = .checking
            actions.append(.checkMessage(MessageCheckRequest(source: .smtp, sender: transaction.sender,
                                                             recipients: transaction.recipients, helo: helo)))
        case .content(let bytes):
            guard !tooLarge, bytes.readableBytes > 0 else { return }
            // Sizes are bounded by the limit (at most 64 KB past it): no overflow.
            received += bytes.readableBytes
            if received > configuration.maxMessageSize {
                tooLarge = true
                actions.append(.dropBody)
            } else {
                actions.append(.storeBody(bytes))
            }
        }
    }

    /// Bare CR and LF line ends rewritten as CRLF in the current message.
    var normalizedLineEnds: Int { data.normalized }
}
