import CoreMetrics

/// The figures an administrator graphs: messages and verdicts per interface, threats, checks
/// that could not be completed, how long a check takes, connections open. Emitted through
/// swift-metrics with the factory moatd gives (Prometheus, served on the console's /metrics);
/// the default factory drops everything, so libraries and tests pay nothing.
///
/// Names follow Prometheus conventions (`moat_` prefix, `_total` counters, seconds).
public struct MoatMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Records nothing.
    public static let disabled = MoatMetrics(factory: NOOPMetricsHandler.instance)

    /// One decided message: `interface` as the profile names it (Milter, Spamd, LinuxFirewall, ...),
    /// `verdict` the final action's keyword in lower case (pass, reject, tempfail, discard, repack).
    public func messageDecided(interface: String, verdict: String, threats: Int, unchecked: [String],
                               spam: Bool, duration: Duration) {
        let labels = [("interface", interface)]
        Counter(label: "moat_messages_total", dimensions: labels + [("verdict", verdict)], factory: factory).increment()
        if threats > 0 {
            Counter(label: "moat_threats_total", dimensions: labels, factory: factory).increment(by: threats)
        }
        for reason in Set(unchecked) {
            Counter(label: "moat_unchecked_total", dimensions: labels + [("reason", reason)], factory: factory).increment()
        }
        if spam {
            Counter(label: "moat_spam_total", dimensions: labels, factory: factory).increment()
        }
        Timer(label: "moat_check_duration_seconds", dimensions: labels, factory: factory)
            .recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// A connection accepted (`opened`) or ended on a listener (`Milter`, `Spamd`, `Gate`, ...).
    public func connection(_ listener: String, opened: Bool) {
        let labels = [("listener", listener)]
        let open = Meter(label: "moat_connections_open", dimensions: labels, factory: factory)
        if opened {
            open.increment()
            Counter(label: "moat_connections_total", dimensions: labels, factory: factory).increment()
        } else {
            open.decrement()
        }
    }

    /// A connection refused because the listener's cap was reached.
    public func connectionRefused(_ listener: String) {
        Counter(label: "moat_connections_refused_total", dimensions: [("listener", listener)], factory: factory).increment()
    }
}
