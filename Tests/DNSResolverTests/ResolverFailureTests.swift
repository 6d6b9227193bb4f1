import DNS
import DNSResolver
import DNSTestSupport
import Foundation
import Testing

/// Servers that never answer or only answer truncated: every query ends as a temporary
/// failure, within its time-out, and the resolver's bounds hold.
@Suite(.serialized) struct ResolverFailureTests {
    static func forwarding(to port: UInt16, timeout: Duration, maxPending: Int = 1024) throws -> UnboundResolver {
        try UnboundResolver(TestDNSServer.configuration(port: port, timeout: timeout, maxPendingQueries: maxPending))
    }

    @Test func aServerThatNeverAnswersIsATemporaryFailureAfterTheTimeout() async throws {
        let silent = try SilentDNSServer()
        defer { silent.stop() }
        let resolver = try Self.forwarding(to: silent.port, timeout: .seconds(1))
        defer { resolver.shutdown() }
        let started = ContinuousClock.now
        let answer = await resolver.lookup("example.test", .txt)
        let elapsed = ContinuousClock.now - started
        #expect(answer.isTemporaryFailure)
        #expect(elapsed >= .milliseconds(900), "answered before its time-out: \(answer)")
        // Generous: on a loaded machine the pool resumed this test 45 s late (CI); what this
        // rules out is waiting for libunbound's own retries, minutes without the deadline.
        #expect(elapsed < .seconds(120))
    }

    @Test func truncatedAnswersWithoutTCPAreATemporaryFailure() async throws {
        let server = try TruncatingDNSServer()
        defer { server.stop() }
        let resolver = try Self.forwarding(to: server.port, timeout: .seconds(10))
        defer { resolver.shutdown() }
        let answer = await resolver.lookup("example.test", .txt)
        #expect(answer.isTemporaryFailure, "\(answer)")
        #expect(server.answered > 0, "the server was asked")
    }

    @Test func queriesBeyondThePendingLimitAreRefusedAtOnce() async throws {
        let silent = try SilentDNSServer()
        defer { silent.stop() }
        // The first two must still be waiting when the third asks, however loaded the machine:
        // a time-out far away, and shutdown (which answers them) once the third has its answer.
        let resolver = try Self.forwarding(to: silent.port, timeout: .seconds(120), maxPending: 2)
        defer { resolver.shutdown() }
        async let first = resolver.lookup("one.example.test", .a)
        async let second = resolver.lookup("two.example.test", .a)
        // Let both reach the resolver before the third asks.
        try await Task.sleep(for: .seconds(2))
        let third = await resolver.lookup("three.example.test", .a)
        #expect(third.result == .temporaryFailure("too many DNS queries under way"))
        resolver.shutdown()
        #expect(await first.isTemporaryFailure)
        #expect(await second.isTemporaryFailure)
    }

    @Test func shutdownAnswersWaitingQueries() async throws {
        let silent = try SilentDNSServer()
        defer { silent.stop() }
        let resolver = try Self.forwarding(to: silent.port, timeout: .seconds(60))
        async let waiting = resolver.lookup("one.example.test", .a)
        try await Task.sleep(for: .milliseconds(300))
        resolver.shutdown()
        #expect(await waiting.result == .temporaryFailure("the resolver is stopped"))
        #expect(await resolver.lookup("two.example.test", .a).isTemporaryFailure)
    }

    @Test func aCancelledLookupIsAnsweredAtOnce() async throws {
        let silent = try SilentDNSServer()
        defer { silent.stop() }
        let resolver = try Self.forwarding(to: silent.port, timeout: .seconds(120))
        defer { resolver.shutdown() }
        let task = Task { await resolver.lookup("one.example.test", .a) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        #expect(await task.value.result == .temporaryFailure("cancelled"))
        // Cancelled before it asks: answered without a query.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await resolver.lookup("two.example.test", .a)
        }
        #expect(await early.value.result == .temporaryFailure("cancelled"))
    }

    @Test func upstreamSettingSyntax() throws {
        #expect(try ResolverConfiguration.parseUpstream("system") == .system)
        #expect(try ResolverConfiguration.parseUpstream(" System ") == .system)
        #expect(try ResolverConfiguration.parseUpstream("192.0.2.53") == .forward(["192.0.2.53"]))
        #expect(try ResolverConfiguration.parseUpstream("192.0.2.53@5353, 2001:db8::53") == .forward(["192.0.2.53@5353", "2001:db8::53"]))
        let settings = try ResolverConfiguration(dnsResolver: "System", dnsTrustAnchor: "")
        #expect(settings.upstream == .system && settings.trustAnchorFile == nil)
        #expect(try ResolverConfiguration(dnsResolver: "::1@53", dnsTrustAnchor: "/usr/share/dns/root.key").trustAnchorFile
            == ResolverConfiguration.debianRootKey)
        for bad in ["resolver.example", "192.0.2.53@0", "192.0.2.53@70000", "192.0.2.53@x", "1.2.3.4@53@53"] {
            #expect(throws: ResolverConfiguration.SyntaxError.self) { try ResolverConfiguration.parseUpstream(bad) }
        }
    }

    @Test func aMissingTrustAnchorFileIsASetupError() {
        #expect(throws: UnboundResolver.SetupError.self) {
            try UnboundResolver(ResolverConfiguration(upstream: .forward(["127.0.0.1@53"]), trustAnchorFile: "/nonexistent/root.key"))
        }
    }
}
