import CoreMetrics
import Foundation
import Prometheus
import Synchronization
@testable import Telemetry
import Testing
@testable import MailD

/// What the core counts per decided message, read back in Prometheus's text format.
@Suite struct MetricsTests {
    @Test func everyDecisionIsCountedByInterfaceAndVerdict() async throws {
        let registry = PrometheusCollectorRegistry()
        let core = MailCore(scanner: SharedCore.scanner, spoolDirectory: FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-spool-\(UUID().uuidString)").path,
                            metrics: MoatMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        let profile = CheckProfile(name: "Milter", limits: SharedCore.limits, rules: [
            #"threat_category in (KnownVirus) : REJECT "The message contains a THREAT""#])
        let envelope = Envelope(source: .milter, sender: "<a@example.com>", recipients: ["<b@example.org>"])
        let clean = Array("From: a@example.com\r\nSubject: hi\r\n\r\nHello\r\n".utf8)
        for _ in 0..<3 { _ = await core.decide(envelope: envelope, message: .bytes(clean), profile: profile) }
        _ = await core.decide(envelope: envelope, message: .bytes(Fixtures.messageWithAttachment(Fixtures.eicar, filename: "e.com")),
                              profile: profile)
        let text = registry.emitToString()
        #expect(text.contains(#"moat_messages_total{interface="Milter",verdict="pass"} 3"#))
        #expect(text.contains(#"moat_messages_total{interface="Milter",verdict="reject"} 1"#))
        #expect(text.contains(#"moat_threats_total{interface="Milter"} 1"#))
        #expect(text.contains(#"moat_check_duration_seconds_count{interface="Milter"} 4"#))
    }
}

/// The metrics moatd updates per message and per connection: what the console's /metrics shows,
/// and how often the factory is asked for a handler (once per label set, not once per update).
@Suite struct MetricHandleTests {
    /// Forwards to Prometheus and counts the handlers asked for.
    final class CountingFactory: MetricsFactory, Sendable {
        let inner: PrometheusMetricsFactory
        let made = Mutex(0)
        init(registry: PrometheusCollectorRegistry) { inner = PrometheusMetricsFactory(registry: registry) }
        func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
            made.withLock { $0 += 1 }
            return inner.makeCounter(label: label, dimensions: dimensions)
        }
        func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
            made.withLock { $0 += 1 }
            return inner.makeFloatingPointCounter(label: label, dimensions: dimensions)
        }
        func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
            made.withLock { $0 += 1 }
            return inner.makeMeter(label: label, dimensions: dimensions)
        }
        func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
            made.withLock { $0 += 1 }
            return inner.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
        }
        func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
            made.withLock { $0 += 1 }
            return inner.makeTimer(label: label, dimensions: dimensions)
        }
        func destroyCounter(_ handler: any CounterHandler) { inner.destroyCounter(handler) }
        func destroyMeter(_ handler: any MeterHandler) { inner.destroyMeter(handler) }
        func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { inner.destroyFloatingPointCounter(handler) }
        func destroyRecorder(_ handler: any RecorderHandler) { inner.destroyRecorder(handler) }
        func destroyTimer(_ handler: any TimerHandler) { inner.destroyTimer(handler) }
    }

    @Test func connectionsOpenTotalAndRefusedAreCountedPerListener() {
        let registry = PrometheusCollectorRegistry()
        let metrics = MoatMetrics(factory: PrometheusMetricsFactory(registry: registry))
        for _ in 0..<3 { metrics.connection("Milter", opened: true) }
        metrics.connection("Milter", opened: false)
        metrics.connection("Spamd", opened: true)
        metrics.connectionRefused("Milter")
        metrics.connectionRefused("Milter")
        let text = registry.emitToString()
        #expect(text.contains(#"moat_connections_open{listener="Milter"} 2"#))
        #expect(text.contains(#"moat_connections_total{listener="Milter"} 3"#))
        #expect(text.contains(#"moat_connections_open{listener="Spamd"} 1"#))
        #expect(text.contains(#"moat_connections_refused_total{listener="Milter"} 2"#))
    }

    @Test func aHandlerIsMadeOncePerLabelSetAndEveryUpdateCounts() {
        let registry = PrometheusCollectorRegistry()
        let factory = CountingFactory(registry: registry)
        let metrics = MoatMetrics(factory: factory)
        for number in 0..<100 {
            metrics.messageDecided(interface: "Milter", verdict: number % 2 == 0 ? "pass" : "reject", threats: number % 2,
                                   unchecked: number == 7 ? ["timeout", "timeout"] : [], spam: number < 10,
                                   duration: .milliseconds(3))
            metrics.connection("Milter", opened: true)
            metrics.connection("Milter", opened: false)
        }
        // messages pass and reject, threats, unchecked timeout, spam, the timer; the open meter
        // and the connection counter.
        #expect(factory.made.withLock { $0 } == 8)
        let text = registry.emitToString()
        #expect(text.contains(#"moat_messages_total{interface="Milter",verdict="pass"} 50"#))
        #expect(text.contains(#"moat_messages_total{interface="Milter",verdict="reject"} 50"#))
        #expect(text.contains(#"moat_threats_total{interface="Milter"} 50"#))
        // One message with the same reason twice counts once.
        #expect(text.contains(#"moat_unchecked_total{interface="Milter",reason="timeout"} 1"#))
        #expect(text.contains(#"moat_spam_total{interface="Milter"} 10"#))
        #expect(text.contains(#"moat_check_duration_seconds_count{interface="Milter"} 100"#))
        #expect(text.contains(#"moat_connections_open{listener="Milter"} 0"#))
        #expect(text.contains(#"moat_connections_total{listener="Milter"} 100"#))
    }

    /// More label sets than the table keeps: each update still reaches its own series, and the
    /// handlers past the table's capacity are asked for on each use instead of kept.
    @Test func pastItsCapacityTheTableStopsGrowingAndNothingIsLost() {
        let registry = PrometheusCollectorRegistry()
        let factory = CountingFactory(registry: registry)
        let metrics = MoatMetrics(factory: factory)
        let interfaces = MetricHandles.capacity + 100
        for round in 0..<2 {
            for number in 0..<interfaces {
                metrics.messageDecided(interface: "i\(number)", verdict: "pass", threats: 0, unchecked: [], spam: false,
                                       duration: .zero)
            }
            if round == 0 { #expect(metrics.keptHandlers == MetricHandles.capacity) }
        }
        #expect(metrics.keptHandlers == MetricHandles.capacity)
        // Two handlers a message (counter and timer); the first 256 interfaces' were kept.
        #expect(factory.made.withLock { $0 } == 2 * interfaces * 2 - MetricHandles.capacity)
        let text = registry.emitToString()
        #expect(text.contains(#"moat_messages_total{interface="i0",verdict="pass"} 2"#))
        #expect(text.contains(#"moat_messages_total{interface="i\#(interfaces - 1)",verdict="pass"} 2"#))
    }

    @Test func labelSetsThatReadAlikeJoinedHaveDifferentKeys() {
        #expect(MetricHandles.key("a", [("b", "c")]) != MetricHandles.key("a", [("bc", "")]))
        #expect(MetricHandles.key("ab", []) != MetricHandles.key("a", [("b", "")]))
        #expect(MetricHandles.key("a", [("b", "c"), ("d", "e")]) != MetricHandles.key("a", [("b", "cd"), ("", "e")]))
    }
}
