import Foundation
import Prometheus
import Telemetry
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
