import Synchronization

/// Where the console listens, or why it does not: what `moat-ctl appinfo` and the status page
/// report about the HTTPD component.
public final class ConsoleStatus: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// Bound addresses (`127.0.0.1:4443`, a socket path).
        public var listening: [String] = []
        /// One line per address (or reason) that failed.
        public var failures: [String] = []
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func listening(on address: String) {
        state.withLock { $0.listening.append(address) }
    }

    public func stopped(listeningOn address: String) {
        state.withLock { $0.listening.removeAll { $0 == address } }
    }

    public func failed(_ reason: String) {
        state.withLock { $0.failures.append(reason) }
    }
}
