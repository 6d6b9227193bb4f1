import NIOCore

/// Backpressure and timers.
///
/// Backpressure: the client is not read while the server cannot take more, while the spool
/// is behind, or while the session holds its input (`wantsClientInput`); the server is not
/// read while the client cannot take more or while the session holds more than `holdLimit`.
extension RelayShell {
    func writabilityChanged() { updateReading() }

    func updateReading() {
        guard !closing, let server else { return }
        let clientShould = server.isWritable && !spoolBehind && (session?.wantsClientInput ?? true)
        if clientShould != clientReading {
            clientReading = clientShould
            client.setOption(ChannelOptions.autoRead, value: clientShould).whenFailure { _ in }
            if clientShould { client.read() }
        }
        // Only on a change: setting a channel option is not free, and this runs on every read.
        let serverShould = client.isWritable && (session?.heldBytes ?? 0) <= holdLimit
        if serverShould != serverReading {
            serverReading = serverShould
            // The reply timeout counts only while the server is read.
            lastServerActivity = .now()
            server.setOption(ChannelOptions.autoRead, value: serverShould).whenFailure { _ in }
            if serverShould { server.read() }
        }
    }

    func checkTimers() {
        guard !closing else { return }
        let now = NIODeadline.now()
        func elapsed(_ since: NIODeadline, _ limit: Duration) -> Bool { now - since > TimeAmount(limit) }
        guard let current = session else {
            // A blind relay has no protocol turns to time; a connection silent both ways this
            // long is a held slot, not a session.
            if elapsed(max(lastClientRead, lastServerRead), settings.timeouts.blindIdle) {
                logger.info("blind relay idle for \(settings.timeouts.blindIdle): closing")
                closeBoth()
            }
            return
        }
        if let started = tls.upgradeStarted {
            if elapsed(started, settings.timeouts.handshake) {
                logger.warning("the TLS handshakes did not finish in time")
                closeBoth()
            }
            return
        }
        if current.awaitsServer, checks.isEmpty, serverReading, elapsed(lastServerActivity, settings.timeouts.serverReply) {
            logger.warning("the server did not answer in time")
            perform(session!.serverTimedOut())
        } else if current.needsKeepAlive, elapsed(lastServerActivity, settings.timeouts.keepAlive) {
            perform(session!.keepAlive())
        } else if current.awaitsClient, elapsed(lastClientRead, settings.timeouts.clientIdle) {
            logger.info("the client stayed silent too long")
            perform(session!.clientTimedOut())
        }
    }
}
