import NIOCore
import Synchronization
import Telemetry

/// Keeps the open connections of one listener (a filter interface, the Gate), so shutdown can
/// wait for them and the cap can be enforced.
public final class ConnectionTracker: Sendable {
    /// The listener's name in the connection metrics (`MailD.Milter`, `Gate`, ...).
    let name: String
    let metrics: MoatMetrics

    public init(name: String = "", metrics: MoatMetrics = .disabled) {
        self.name = name
        self.metrics = metrics
    }

    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])
    /// Refusals not yet logged, and when the last log line about them was written: one line
    /// per 10 s at most, however fast the refused connections come.
    private let refusals = Mutex<(count: Int, logged: ContinuousClock.Instant?)>((0, nil))

    /// Counts `channel` in unless `limit` connections are open already.
    public func admit(_ channel: any Channel, limit: Int) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = open.withLock { open -> Bool in
            guard open.count < limit else { return false }
            open[id] = channel
            return true
        }
        if admitted {
            metrics.connection(name, opened: true)
            channel.closeFuture.whenComplete { [self] _ in self.closed(id) }
        } else {
            metrics.connectionRefused(name)
            refusals.withLock { $0.count += 1 }
        }
        return admitted
    }

    /// The number of refusals to log now, if a line is due.
    public func refusedToReport() -> Int? {
        refusals.withLock { state in
            let now = ContinuousClock.now
            if let last = state.logged, now - last < .seconds(10) { return nil }
            state.logged = now
            defer { state.count = 0 }
            return state.count
        }
    }

    private func closed(_ id: ObjectIdentifier) {
        if open.withLock({ $0.removeValue(forKey: id) }) != nil { metrics.connection(name, opened: false) }
    }

    public func drain(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if open.withLock({ $0.isEmpty }) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return open.withLock { $0.isEmpty }
    }

    public func closeAll() {
        for channel in open.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }

    public var count: Int { open.withLock { $0.count } }
}
