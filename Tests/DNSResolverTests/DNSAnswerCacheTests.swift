import DNS
@testable import DNSResolver
import DNSTestSupport
import Foundation
import Testing

/// The answers kept in front of libunbound: only definite ones, never past their TTL, bounded.
@Suite struct DNSAnswerCacheTests {
    let start = ContinuousClock.now
    let key = DNSAnswerCache.Key(name: "example.test.", type: .txt)
    let spf = DNSAnswer(.records([.txt([Array("v=spf1 -all".utf8)])]), ttl: 300)

    @Test func anAnswerIsKeptForItsTTLAndNoLonger() {
        let cache = DNSAnswerCache(capacity: 100, maxTTL: .seconds(86_400))
        cache.store(spf, for: key, now: start)
        #expect(cache.answer(key, now: start + .seconds(1))?.records == spf.records)
        // What is left of the TTL, as a resolver's cache reports it.
        #expect(cache.answer(key, now: start + .seconds(200))?.ttl == 100)
        #expect(cache.answer(key, now: start + .seconds(300)) == nil)
        #expect(cache.count == 0)
        #expect(cache.answer(.init(name: "example.test.", type: .a), now: start) == nil)
    }

    @Test func theTTLIsCappedByMaxTTL() {
        let cache = DNSAnswerCache(capacity: 100, maxTTL: .seconds(60))
        cache.store(spf, for: key, now: start)
        #expect(cache.answer(key, now: start + .seconds(59)) != nil)
        #expect(cache.answer(key, now: start + .seconds(61)) == nil)
    }

    @Test func negativeAnswersAreKeptFailuresAndBogusAnswersAreNot() {
        let cache = DNSAnswerCache(capacity: 100, maxTTL: .seconds(3600))
        let names = ["nx.", "nodata.", "servfail.", "bogus.", "zero-ttl."].map { DNSAnswerCache.Key(name: $0, type: .txt) }
        cache.store(DNSAnswer(.nxdomain, ttl: 60), for: names[0], now: start)
        cache.store(DNSAnswer(.noData, ttl: 60), for: names[1], now: start)
        cache.store(DNSAnswer(.temporaryFailure("SERVFAIL"), ttl: 60), for: names[2], now: start)
        cache.store(DNSAnswer(.records([.a([192, 0, 2, 1])]), security: .bogus("bad signature"), ttl: 60), for: names[3], now: start)
        cache.store(DNSAnswer(.records([.a([192, 0, 2, 1])]), ttl: 0), for: names[4], now: start)
        #expect(cache.answer(names[0], now: start)?.result == .nxdomain)
        #expect(cache.answer(names[1], now: start)?.result == .noData)
        for name in names[2...] { #expect(cache.answer(name, now: start) == nil) }
    }

    @Test func itNeverHoldsMoreThanItsCapacity() {
        let cache = DNSAnswerCache(capacity: 64, maxTTL: .seconds(3600))
        for n in 0..<1000 {
            cache.store(spf, for: .init(name: "n\(n).test.", type: .txt), now: start)
            #expect(cache.count <= 64)
        }
        // The newest answer is always kept.
        #expect(cache.answer(.init(name: "n999.test.", type: .txt), now: start) != nil)
    }

    /// A sender names the DKIM selectors asked for, and one answer may hold 16 KB: the cache is
    /// bounded in bytes too, and an answer of over a quarter of them is not kept at all.
    @Test func itNeverHoldsMoreThanItsBytes() {
        let cache = DNSAnswerCache(capacity: 10_000, maxBytes: 64 << 10, maxTTL: .seconds(3600))
        let big = DNSAnswer(.records([.txt([[UInt8](repeating: 0x41, count: 4000)])]), ttl: 300)
        for n in 0..<500 {
            cache.store(big, for: .init(name: "s\(n)._domainkey.example.test.", type: .txt), now: start)
            #expect(cache.storedBytes <= 64 << 10)
        }
        #expect(cache.count >= 8)
        #expect(cache.answer(.init(name: "s499._domainkey.example.test.", type: .txt), now: start) != nil)
        let huge = DNSAnswer(.records([.txt([[UInt8](repeating: 0x41, count: 17_000)])]), ttl: 300)
        cache.store(huge, for: key, now: start)
        #expect(cache.answer(key, now: start) == nil)
        // Replacing an answer does not count it twice.
        let before = cache.storedBytes
        cache.store(big, for: .init(name: "s499._domainkey.example.test.", type: .txt), now: start)
        #expect(cache.storedBytes == before)
    }

    @Test func expiredAnswersMakeRoomFirst() {
        let cache = DNSAnswerCache(capacity: 4, maxTTL: .seconds(3600))
        let short = DNSAnswer(.nxdomain, ttl: 10)
        for n in 0..<3 { cache.store(short, for: .init(name: "short\(n).test.", type: .txt), now: start) }
        cache.store(spf, for: key, now: start)
        #expect(cache.count == 4)
        cache.store(spf, for: .init(name: "new.test.", type: .txt), now: start + .seconds(11))
        // The three expired ones went; the live one stayed.
        #expect(cache.count == 2)
        #expect(cache.answer(key, now: start + .seconds(11)) != nil)
    }

    @Test func capacityZeroKeepsNothing() {
        let cache = DNSAnswerCache(capacity: 0, maxTTL: .seconds(3600))
        cache.store(spf, for: key, now: start)
        #expect(cache.answer(key, now: start) == nil)
    }

    /// Against a real NSD: the second lookup of a name, in any letter case, is answered without
    /// a query to libunbound; a name that failed is asked again.
    @Test func theResolverAnswersARepeatedLookupFromTheCache() async throws {
        let server = try await TestDNSServer.start(zones: [
            .init("cache.test", signing: .unsigned, records: [#"@ TXT "v=spf1 -all""#]),
        ])
        defer { server.stop() }
        let resolver = try server.resolver(timeout: .seconds(2))
        defer { resolver.shutdown() }
        let first = await resolver.lookup("cache.test", .txt)
        #expect(first.texts == [Array("v=spf1 -all".utf8)])
        #expect(resolver.queriesAsked == 1)
        let second = await resolver.lookup("CACHE.test.", .txt)
        #expect(second.texts == first.texts)
        #expect(second.ttl <= first.ttl)
        #expect(resolver.queriesAsked == 1)
        // Another type is another question.
        _ = await resolver.lookup("cache.test", .a)
        #expect(resolver.queriesAsked == 2)
        // Temporary failures are not kept: the server is gone, the lookup fails, and the next
        // lookup asks again.
        server.stop()
        let gone = await resolver.lookup("other.cache.test", .txt)
        #expect(gone.isTemporaryFailure)
        _ = await resolver.lookup("other.cache.test", .txt)
        #expect(resolver.queriesAsked == 4)
    }
}
