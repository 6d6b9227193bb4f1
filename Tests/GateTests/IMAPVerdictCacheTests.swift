import Testing
@testable import Gate

@Suite struct IMAPVerdictCacheTests {
    func key(_ uid: UInt32) -> IMAPMessageKey { IMAPMessageKey(mailbox: "INBOX", uidValidity: 1, uid: uid) }

    @Test func boundedOldestFirst() {
        var cache = IMAPVerdictCache(capacity: 2)
        cache.record(key(1), .clean)
        cache.record(key(2), .bad)
        cache.record(key(1), .bad)  // an update does not make it younger
        cache.record(key(3), .unchecked)
        #expect(cache[key(1)] == nil)
        #expect(cache[key(2)] == .bad)
        #expect(cache[key(3)] == .unchecked)
        #expect(cache.count == 2)
    }

    @Test func checkOutcomesAndUnchecked() {
        var cache = IMAPVerdictCache(capacity: 10)
        cache.record(key(1), MailCheckVerdict.pass)
        cache.record(key(2), MailCheckVerdict.deliver([1]))
        #expect(cache[key(1)] == .clean && cache[key(2)] == .bad)
        cache.recordUnchecked(key(2))
        cache.recordUnchecked(key(3))
        #expect(cache[key(2)] == .bad, "a verdict is not downgraded")
        #expect(cache[key(3)] == .unchecked)
    }

    @Test func awaitedChecksSettleOnce() {
        var cache = IMAPVerdictCache(capacity: 10)
        let id = MailCheckID(rawValue: 9)
        cache.await(id, for: key(4))
        cache.settle(MailCheckID(rawValue: 8), .pass)
        #expect(cache[key(4)] == nil, "another check")
        cache.settle(id, .deliver([]))
        #expect(cache[key(4)] == .bad)
        cache.record(key(4), .clean)
        cache.settle(id, .deliver([]))
        #expect(cache[key(4)] == .clean, "settled already")
    }

    @Test func tlsForgetsVerdictsButNotChecksInFlight() {
        var cache = IMAPVerdictCache(capacity: 10)
        cache.record(key(1), .bad)
        cache.await(MailCheckID(rawValue: 1), for: key(5))
        cache.removeVerdicts()
        #expect(cache[key(1)] == nil && cache.count == 0)
        cache.settle(MailCheckID(rawValue: 1), .pass)
        #expect(cache[key(5)] == .clean)
    }
}
