import NIOCore

// A server response is complete: what it teaches the mailbox view, the checks and decisions of
// the literals it held, its reports, and, for a tagged reply, the end of a command.
extension IMAPRelaySession {
    mutating func finishResponse(_ actions: inout [Action]) {
        guard let done = assembler.finish() else { return }
        let ref = ref(for: done)
        // While a selection changes, a response may be about either mailbox: nothing is learnt.
        let selecting = commands.selectionInProgress
        let key = selecting ? nil : ref.uid.map { mailbox.key(uid: $0) }
        switch done.kind {
        case .fetch(let tracker):
            if !selecting, let sequence = tracker.sequence, let uid = tracker.uid {
                mailbox.learn(sequence: sequence, uid: uid)
            }
        case .exists(let count):
            mailbox.exists(count)
        case .expunge(let sequence):
            mailbox.expunge(sequence)
        case .vanished:
            mailbox.vanished()
        case .continuation, .status, .other:
            break
        }
        if done.isPrivate {
            finishPrivateResponse(done, key: key, ref: ref, &actions)
            return
        }
        for (id, role) in done.holds {
            guard let held = connection.output.held(id) else { continue }
            switch role {
            case .wholeMessage(let item):
                if let key { verdicts.await(id, for: key) }
                actions.append(.checkMessage(id: id, message: Array(held.literal.readableBytesView), ref: ref, item: item))
            case .partialContent(let item):
                _ = connection.output.resolve(id, with: decidePartial(held, item: item, key: key, ref: ref, &actions))
            case .header, .other:
                break
            }
        }
        for (id, head) in done.replacements {
            actions.append(.replaceUnchecked(id: id, head: head, reason: .tooLarge(limit: configuration.maxLiteralSize), ref: ref))
        }
        if done.tooLargeWhole, let key { verdicts.recordUnchecked(key) }
        for report in done.reports {
            actions.append(report.withheld ? .withheld(report.reason, ref: ref) : .unchecked(report.reason, ref: ref))
        }
        if case .status(let tag?, let status) = done.kind {
            if privateFetch.isOwn(tag: tag) {
                if let command = privateFetch.replied(status: status) {
                    actions.append(.privateFetchRefused(command: command, status: status))
                }
                if let reason = resumeAfterPrivateFetch(&actions) { pendingClose = reason }
            } else {
                completeCommand(tag, status: status)
                startPrivateFetchIfReady(&actions)
            }
        }
        for reply in commands.takeLocalReplies() { connection.output.append(reply) }
    }

    /// A held partial literal, now that its response named the message: the server's bytes
    /// when the message is clean, an empty literal when it is bad or, with BlockUnchecked,
    /// unknown.
    private func decidePartial(_ held: IMAPHeldLiteral, item: String, key: IMAPMessageKey?, ref: IMAPMessageRef,
                               _ actions: inout [Action]) -> ByteBuffer {
        let known = key.flatMap { verdicts[$0] }
        var empty = known == .bad
        if known != .clean && known != .bad {
            if blockUnchecked {
                empty = true
                actions.append(.withheld(.partialFetch(item: item), ref: ref))
            } else {
                actions.append(.unchecked(.partialFetch(item: item), ref: ref))
            }
        }
        var bytes = ByteBuffer()
        if empty {
            bytes.writeBytes(IMAPLiteralMarker(length: 0, binary: held.marker.binary).wireBytes)
        } else {
            var marker = held.markerBytes
            var literal = held.literal
            bytes.writeBuffer(&marker)
            bytes.writeBuffer(&literal)
        }
        return bytes
    }

    /// A FETCH response during the private command: its whole message is checked; one without
    /// (an unsolicited update) is relayed unless it carries content nobody asked for.
    private mutating func finishPrivateResponse(_ done: IMAPServerResponse, key: IMAPMessageKey?, ref: IMAPMessageRef,
                                                _ actions: inout [Action]) {
        if !done.privateWhole {
            if !done.privateContent { connection.output.append(done.privateText) }
        } else if let message = done.privateMessage {
            let id = newCheckID()
            privateFetch.checking(id, key: key, size: message.readableBytes)
            actions.append(.checkMessage(id: id, message: Array(message.readableBytesView), ref: ref, item: "BODY[] (private)"))
        } else if let key {
            verdicts.recordUnchecked(key)  // too large to check
        }
    }
}
