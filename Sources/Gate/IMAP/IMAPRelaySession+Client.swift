import NIOCore

// The client side: commands framed, tracked and forwarded, or held behind a private fetch.
extension IMAPRelaySession {
    /// Frames and forwards client bytes; stops at a command that needs a private fetch (the
    /// rest is held). Returns a reason when the session must close.
    mutating func feedClient(_ bytes: ByteBuffer, _ actions: inout [Action]) -> CloseReason? {
        clientFramer.append(bytes)
        var forward = ByteBuffer()
        defer { if forward.readableBytes > 0 { actions.append(.sendToServer(forward)) } }
        while connection.phase == .relaying {
            let event: IMAPFramer.Event?
            do { event = try clientFramer.next() } catch {
                if case .lineTooLong(let limit) = error { return .clientLineTooLong(limit: limit) }
                return .clientLineTooLong(limit: configuration.maxClientLineLength)
            }
            guard let event else { break }
            switch event {
            case .segment(var segment, let textLength, let literal, let first):
                let text = segment.getBytes(at: segment.readerIndex, length: textLength) ?? []
                if first && !commands.readsRawLines {
                    // The command that waited for the private fetch was judged already.
                    let judged = privateFetch.takeJudged()
                    if !judged, let request = IMAPPrivateFetch.Request(fetchCommand: text, assumePartial: literal != nil),
                       needsPrivateFetch(request) {
                        // This command and all after it wait for the private fetch.
                        privateFetch.hold(segment, rest: clientFramer.takeAll(), for: request)
                        if forward.readableBytes > 0 {
                            actions.append(.sendToServer(forward))
                            forward.clear()
                        }
                        startPrivateFetchIfReady(&actions)
                        return nil
                    }
                    startClientCommand(text)
                } else if first, case .unasked(let what) = commands.rawLine(text) {
                    // A line of an IDLE or AUTHENTICATE that the server did not ask for: not
                    // forwarded (see `IMAPCommandTracker.RawLine`).
                    return .clientUnaskedLine(what)
                }
                if !commands.swallowsLine { forward.writeBuffer(&segment) }
                if literal == nil { commands.lineEnded() }
                if connection.phase == .awaitingTLSReply {
                    actions += MailboxConnection<IMAPHeldLiteral, Action>.discarded(clientFramer.takeAll(), from: .client)
                }
            case .literalBytes(var chunk):
                if !commands.swallowsLine { forward.writeBuffer(&chunk) }
            case .literalEnd:
                break
            }
        }
        return nil
    }

    private mutating func startClientCommand(_ text: [UInt8]) {
        guard let command = commands.begin(text) else { return }
        if command.kind == .startTLS { connection.startTLSSent() }
        beginSelectionIfFirst()
    }

    /// A SELECT/EXAMINE takes effect when the server gets to it: when it is the oldest
    /// outstanding command. It closes the mailbox selected before, whatever its outcome.
    mutating func beginSelectionIfFirst() {
        if let selection = commands.selectionToBegin() { mailbox.beginSelection(of: selection.mailbox) }
    }

    /// The tagged reply of a client command.
    mutating func completeCommand(_ tag: String, status: String) {
        if commands.line?.tag == tag, clientFramer.isAwaitingLiteral {
            // The reply refused a synchronizing literal: the client's next bytes start anew.
            clientFramer.abandonLiteral()
            commands.abandonLine()
        }
        guard let done = commands.complete(tag) else { return }
        defer { beginSelectionIfFirst() }
        switch done.command.kind {
        case .select(let target):
            // A SELECT answered before it became the oldest outstanding command still takes effect.
            if !done.selectionBegun { mailbox.beginSelection(of: target) }
            mailbox.selectionEnded(ok: status == "OK")
        case .unselect:
            if status == "OK" { mailbox.unselected() }
        case .startTLS:
            connection.startTLSAnswered(accepted: status == "OK")
        case .idle, .authenticate, .refused, .other:
            break
        }
    }
}
