import CoreMetrics

/// The figures an administrator graphs: messages and verdicts per interface, threats, checks
/// that could not be completed, how long a check takes, connections open. Emitted through
/// swift-metrics with the factory moatd gives (Prometheus, served on the console's /metrics);
/// the default factory drops everything, so libraries and tests pay nothing.
///
/// Names follow Prometheus conventions (`moat_` prefix, `_total` counters, seconds).
public struct MoatMetrics: Sendable {
    private let handles: MetricHandles

    public init(factory: any MetricsFactory) {
        handles = MetricHandles(factory: factory)
    }

    /// Handlers kept for reuse (tests).
    var keptHandlers: Int { handles.count }

    /// Records nothing.
    public static let disabled = MoatMetrics(factory: NOOPMetricsHandler.instance)

    /// One decided message: `interface` as the profile names it (Milter, Spamd, LinuxFirewall, ...),
    /// `verdict` the final action's keyword in lower case (pass, reject, tempfail, discard, repack).
    public func messageDecided(interface: String, verdict: String, threats: Int, unchecked: [String],
                               spam: Bool, duration: Duration) {
        let labels = [("interface", interface)]
        handles.counter("moat_messages_total", labels + [("verdict", verdict)]).increment(by: 1)
        if threats > 0 {
            handles.counter("moat_threats_total", labels).increment(by: Int64(threats))
        }
        for reason in Set(unchecked) {
            handles.counter("moat_unchecked_total", labels + [("reason", reason)]).increment(by: 1)
        }
        if spam {
            handles.counter("moat_spam_total", labels).increment(by: 1)
        }
        handles.timer("moat_check_duration_seconds", labels)
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// A connection accepted (`opened`) or ended on a listener (`Milter`, `Spamd`, `Gate`, ...).
    public func connection(_ listener: String, opened: Bool) {
        let labels = [("listener", listener)]
        let open = handles.meter("moat_connections_open", labels)
        if opened {
            open.increment(by: 1)
            handles.counter("moat_connections_total", labels).increment(by: 1)
        } else {
            open.decrement(by: 1)
        }
    }

    /// A connection refused because the listener's cap was reached.
    public func connectionRefused(_ listener: String) {
        handles.counter("moat_connections_refused_total", [("listener", listener)]).increment(by: 1)
    }
}
