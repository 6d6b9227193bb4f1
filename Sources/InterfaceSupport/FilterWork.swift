import NIOCore

/// What one filter connection (spamd, rspamd, clamd) has under way besides its protocol
/// session: the message of the request being read and the checks started. Both end with the
/// connection: a client that hangs up mid-check frees the engine at once, and the message it
/// was sending is dropped. Used on the connection's event loop only.
public struct FilterWork {
    public var message: MessageIntake
    private var checks: ConnectionChecks?
    /// Tests: see `ConnectionChecks.hook`.
    let checkHook: (@Sendable () async -> Void)?

    public init(for service: some FilterService, checkHook: (@Sendable () async -> Void)? = nil) {
        self.message = MessageIntake(profiles: service.profiles, spoolDirectory: service.spoolDirectory)
        self.checkHook = checkHook
    }

    /// Runs `work` off the event loop (or on it: `executor`), cancelled if the connection goes (see `ConnectionChecks.start`).
    public mutating func check<Result: Sendable>(on eventLoop: any EventLoop, executor: EventLoopTaskExecutor? = nil,
                                                 _ work: @escaping @Sendable () async -> Result,
                                                 then: @escaping (Result) -> Void, dropped: ((Result) -> Void)? = nil) {
        if checks == nil { checks = ConnectionChecks(eventLoop: eventLoop, hook: checkHook) }
        checks!.start(on: executor, work, then: then, dropped: dropped)
    }

    /// The connection is gone (its handler removed).
    public mutating func end() {
        message.discard()
        checks?.cancelAll()
    }
}
