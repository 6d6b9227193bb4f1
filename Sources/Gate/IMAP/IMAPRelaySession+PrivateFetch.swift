import NIOCore

// When the private fetch starts and ends (what it is: the session's header).
extension IMAPRelaySession {
    /// Whether the request must wait: messages of unknown verdict, or a selection change on the
    /// way that the current state cannot judge.
    func needsPrivateFetch(_ request: IMAPPrivateFetch.Request) -> Bool {
        commands.selectionChanging || plan(request) != nil
    }

    /// The set for the private command, nil when nothing is to be fetched.
    func plan(_ request: IMAPPrivateFetch.Request) -> String? {
        guard mailbox.isOpen else { return nil }
        guard let numbers = mailbox.expand(request.set, uid: request.uid, limit: configuration.peekSetLimit) else {
            return request.set
        }
        let unknown = numbers.filter { number in
            let uid = request.uid ? number : mailbox.uid(sequence: number)
            guard let uid else { return true }
            return verdicts[mailbox.key(uid: uid)] == nil
        }
        return unknown.isEmpty ? nil : IMAPPrivateFetch.compress(unknown)
    }

    /// Sends the private command once no client command is outstanding, or resumes at once when
    /// nothing needs fetching any more.
    mutating func startPrivateFetchIfReady(_ actions: inout [Action]) {
        guard case .waiting(let request) = privateFetch.phase, commands.outstanding.isEmpty else { return }
        if let line = privateFetch.start(set: plan(request)) {
            actions.append(.sendToServer(line))
        } else if let reason = resumeAfterPrivateFetch(&actions) {
            pendingClose = reason
        }
    }

    /// When the private fetch is complete (tagged reply in, every check answered), the held
    /// client bytes are processed as if they had just arrived.
    mutating func resumeAfterPrivateFetch(_ actions: inout [Action]) -> CloseReason? {
        guard connection.phase == .relaying, let input = privateFetch.finishIfDone() else { return nil }
        return feedClient(input, &actions)
    }

    /// A close decided while the held client bytes were processed during a server event.
    mutating func takePendingClose() -> CloseReason? {
        defer { pendingClose = nil }
        return pendingClose
    }
}
