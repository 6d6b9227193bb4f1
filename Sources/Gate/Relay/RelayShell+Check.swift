import InterfaceSupport
import MailD
import NIOCore

extension RelayShell {
    /// Runs `work` off the event loop as one of this connection's checks (`ConnectionChecks`:
    /// cancelled when the connection closes); once the server is gone, the last one closes.
    func runCheck<Result: Sendable>(on executor: EventLoopTaskExecutor? = nil, _ work: @escaping @Sendable () async -> Result,
                                    then: @escaping (Result) -> Void) {
        checks.start(on: executor, work) { [self] result in
            then(result)
            if serverGone, checks.isEmpty { closeBoth() }
        }
    }

    func envelope(_ request: MessageCheckRequest) -> Envelope {
        var envelope = Envelope(source: request.source, sender: request.sender, recipients: request.recipients,
                                helo: request.helo, clientAddress: info.clientAddress, clientPort: info.clientPort,
                                serverAddress: info.serverAddress, serverPort: info.serverPort)
        envelope.tls = tls.unwrapped
        envelope.sniHost = tls.sni
        return envelope
    }

    // MARK: - A message the relay stored (SMTP)

    func checkStored(_ request: MessageCheckRequest) {
        let message = stored ?? StoredMessage(threshold: .max, directory: settings.spoolDirectory, quota: context.spoolQuota,
                                              eventLoop: client.eventLoop)
        stored = message
        if message.failure == .quota {
            logger.warning("the Gate's spool is full (MaxSpoolSize \(settings.maxSpoolSize) bytes in use by messages held): message refused for now")
            finishCheck(.storageFull)
            return
        }
        if message.size > settings.maxMessageSize {
            // The session stops storing at the limit; should more ever arrive, it is not checked
            // and not sent.
            logger.error("message of \(message.size) bytes held past MaxMessageSize: refused")
            finishCheck(.localError)
            return
        }
        let envelope = envelope(request)
        // The message stays on this loop; the bound says so to the closures that come back here.
        let bound = NIOLoopBound(message, eventLoop: client.eventLoop)
        message.finish(on: client.eventLoop).whenSuccess { [self] source in
            let message = bound.value
            guard !closing, stored === message else { message.remove(); return }
            guard let source else {
                logger.error("cannot spool the message in \(settings.spoolDirectory)")
                finishCheck(.localError)
                return
            }
            let core = context.core
            let profile = context.profiles.current
            let executor: EventLoopTaskExecutor?
            if case .bytes(let bytes) = source {
                executor = CheckPlacement.executor(forMessageOf: bytes.count, inMemory: true, on: client.eventLoop)
            } else {
                executor = nil
            }
            runCheck(on: executor) { await core.decide(envelope: envelope, message: source, profile: profile) }
                then: { [self] decision in checked(decision, message: message) }
        }
    }

    private func checked(_ decision: Decision, message: StoredMessage) {
        guard stored === message else { message.remove(); return }
        switch decision.mailAction {
        case .pass:
            let headers = Array((decision.sealHeaders.map(\.line) + decision.addedHeaders.map(\.line)).joined().utf8)
            outgoing = Outgoing(headers: headers, body: message.memory, path: message.path, size: headers.count + message.size)
            finishCheck(.deliver(size: headers.count + message.size))
        case .repack(let repacked, _):
            let seal = Array(decision.sealHeaders.map(\.line).joined().utf8)
            outgoing = Outgoing(headers: seal, body: repacked, path: nil, size: seal.count + repacked.count)
            finishCheck(.deliver(size: seal.count + repacked.count))
        case .reject(let text):
            finishCheck(.reject(text))
        case .tempfail(let text):
            finishCheck(.tempfail(text))
        case .discard:
            finishCheck(.discard)
        }
    }

    private func finishCheck(_ outcome: CheckOutcome) {
        if case .deliver = outcome {} else { dropMessage() }
        guard session != nil else { return }
        perform(session!.checkCompleted(outcome))
    }

    // MARK: - A message the session holds (POP3, IMAP)

    func checkHeld(_ held: HeldMessageCheck) {
        if let key = held.key { checkKeys[held.id] = key }
        let envelope = envelope(MessageCheckRequest(source: Session.envelopeSource))
        let profile = context.profiles.current
        let core = context.core
        let logger = logger
        let executor = CheckPlacement.executor(forMessageOf: held.message.count, inMemory: true, on: client.eventLoop)
        runCheck(on: executor) {
            let decision = await core.decide(envelope: envelope, message: .bytes(held.message), profile: profile)
            logger.info("\(Session.protocolName) \(held.what) checked: \(decision.action) (\(decision.reason))")
            return MailboxReplacement.replacement(for: decision, message: held.message, profile: profile)
                .map(MailCheckVerdict.deliver) ?? .pass
        } then: { [self] verdict in
            answer(held.id, verdict)
        }
    }

    func answer(_ id: MailCheckID, _ verdict: MailCheckVerdict) {
        if let key = checkKeys.removeValue(forKey: id), case .deliver = verdict {
            context.knownBad.note(key, in: knownBadScope)
        }
        guard session != nil else { return }
        perform(session!.verdict(id, verdict))
    }
}
