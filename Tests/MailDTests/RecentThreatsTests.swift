import Foundation
import MoatConfig
import Testing
@testable import MailD

/// What the console's threats page shows: verdicts with threats, kept where the event log
/// line is written, newest first, bounded.
@Suite struct RecentThreatsTests {
    @Test func decisionsWithThreatsAreKeptAndCleanOnesAreNot() async throws {
        let core = try SharedCore.core()
        let profile = CheckProfile(name: "Milter", limits: SharedCore.limits, blockUnchecked: false,
                                   rules: [#"threat_category in (KnownVirus) : REJECT "The message contains a THREAT""#])
        let envelope = Envelope(source: .milter, sender: "<alice@example.com>", recipients: ["<bob@example.org>"],
                                clientAddress: "192.0.2.7", queueId: "4AbC")
        let infected = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar.com")
        _ = await core.decide(envelope: envelope, message: .bytes(infected), profile: profile)
        _ = await core.decide(envelope: envelope, message: .bytes(Array("Subject: lunch\r\n\r\nNoon?\r\n".utf8)), profile: profile)
        let events = core.recentThreats.latest()
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(event.interface == "Milter")
        #expect(event.action == "reject")
        #expect(event.threats.count == 1)
        #expect(event.threats[0].hasPrefix("Moat.Test.EICAR (KnownVirus) in "))
        #expect(event.threats[0].hasSuffix("\"eicar.com\""))
        #expect(event.sender == "<alice@example.com>")
        #expect(event.recipients == ["<bob@example.org>"])
        #expect(event.client == "192.0.2.7")
        #expect(event.queueId == "4AbC")
        #expect(event.reason.contains("MailD.MilterRuleSet rule 1"))
    }

    @Test func theRingKeepsTheNewestWithinItsCapacity() async throws {
        let ring = RecentThreats(capacity: 3)
        let core = MailCore(scanner: SharedCore.scanner, spoolDirectory: FileManager.default.temporaryDirectory.path + "/moat-ring",
                            recentThreats: ring)
        let profile = CheckProfile(name: "Spamd", limits: SharedCore.limits, blockUnchecked: false, rules: [])
        for n in 1...5 {
            let message = Fixtures.messageWithAttachment(Fixtures.eicar, filename: "eicar\(n).com")
            _ = await core.decide(envelope: Envelope(source: .spamd), message: .bytes(message), profile: profile)
        }
        let kept = ring.latest()
        #expect(kept.count == 3)
        #expect(kept.map { $0.threats[0].contains("eicar5.com") } == [true, false, false], "newest first")
        #expect(kept.last?.threats[0].contains("eicar3.com") == true)
        #expect(ring.latest(1).count == 1)
    }
}
