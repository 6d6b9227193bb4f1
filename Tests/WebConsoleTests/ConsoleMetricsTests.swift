import Foundation
import Prometheus
import Telemetry
import Testing
@testable import WebConsole

/// /metrics over real HTTPS: Prometheus's text format, behind a login or the scraper's token.
@Suite(.serialized) struct ConsoleMetricsTests {
    static let token = "scraper-token-0123456789"

    static func registryWithOneRejection() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        let metrics = MoatMetrics(factory: PrometheusMetricsFactory(registry: registry))
        metrics.messageDecided(interface: "Milter", verdict: "reject", threats: 1, unchecked: [], spam: false,
                               duration: .milliseconds(12))
        metrics.connection("MailD.Milter", opened: true)
        return registry
    }

    @Test func scraperWithTheTokenReadsTheFigures() async throws {
        try await ConsoleFixture.with(httpd: "MetricsToken = \(Self.token)", metrics: Self.registryWithOneRejection()) { console in
            let answer = try await console.request("/metrics", headers: ["Authorization: Bearer \(Self.token)"])
            #expect(answer.status == 200)
            #expect(answer.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(answer.body.contains(#"moat_messages_total{interface="Milter",verdict="reject"} 1"#))
            #expect(answer.body.contains(#"moat_threats_total{interface="Milter"} 1"#))
            #expect(answer.body.contains(#"moat_connections_open{listener="MailD.Milter"} 1"#))
            #expect(answer.body.contains("moat_check_duration_seconds_bucket"))
        }
    }

    @Test func withoutTheTokenOrALoginMetricsAreClosed() async throws {
        try await ConsoleFixture.with(httpd: "MetricsToken = \(Self.token)", metrics: Self.registryWithOneRejection()) { console in
            for headers in [[], ["Authorization: Bearer wrong-token-0123456789"], ["Authorization: Basic \(Self.token)"]] {
                let answer = try await console.request("/metrics", headers: headers)
                #expect(answer.status == 303, "\(headers)")
                #expect(!answer.body.contains("moat_messages_total"))
            }
            let session = try await console.login()
            let loggedIn = try await console.request("/metrics", token: session)
            #expect(loggedIn.status == 200)
            #expect(loggedIn.body.contains("moat_messages_total"))
        }
    }

    @Test func aShortTokenOpensNothing() async throws {
        try await ConsoleFixture.with(httpd: "MetricsToken = short", metrics: Self.registryWithOneRejection()) { console in
            let answer = try await console.request("/metrics", headers: ["Authorization: Bearer short"])
            #expect(answer.status == 303)
        }
    }
}
