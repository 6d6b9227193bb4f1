import Foundation
import Storage
import Testing

/// Record ids are UUIDs that sort by the time they were made, so that the storage writer's
/// inserts append to the id indexes instead of landing on a random page each.
struct RecordIDTests {
    @Test func anIdIsAVersion7UUIDInTheUsualTextForm() throws {
        for lowercase in [false, true] {
            let id = RecordID.make(lowercase: lowercase)
            let characters = Array(id)
            #expect(characters.count == 36)
            #expect([8, 13, 18, 23].allSatisfy { characters[$0] == "-" })
            #expect(characters[14] == "7")                                   // version
            #expect("89abAB".contains(characters[19]))                       // variant 10
            #expect(id == (lowercase ? id.lowercased() : id.uppercased()))
            let parsed = try #require(UUID(uuidString: id))
            #expect(parsed.uuidString == id.uppercased())
        }
    }

    @Test func theIdStartsWithTheTimeInMilliseconds() {
        // Half a millisecond past: a Double's rounding cannot carry it across a millisecond.
        let date = Date(timeIntervalSince1970: 1_800_000_000.1235)
        let id = RecordID.make(at: date)
        let hex = String(id.replacingOccurrences(of: "-", with: "").prefix(12))
        #expect(UInt64(hex, radix: 16) == 1_800_000_000_123)
    }

    @Test func laterIdsSortAfterEarlierOnes() {
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        // Across byte and digit boundaries of the time field: 1 ms, 255 ms, a day, years. Each
        // half a millisecond past the one meant (ids of the same millisecond differ at random).
        let offsets: [TimeInterval] = [0.0005, 0.0015, 0.0025, 0.2555, 0.2565, 1.0005, 86_400.0005,
                                       86_400 * 400 + 0.0005, 86_400 * 3000 + 0.0005]
        let ids = offsets.map { RecordID.make(at: start + $0) }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        let lower = offsets.map { RecordID.make(at: start + $0, lowercase: true) }
        #expect(lower == lower.sorted())
    }

    @Test func idsMadeInTheSameMillisecondDiffer() {
        let date = Date(timeIntervalSince1970: 1_800_000_000)
        let ids = (0..<10_000).map { _ in RecordID.make(at: date) }
        #expect(Set(ids).count == ids.count)
        #expect(Set(ids.map { $0.prefix(13) }).count == 1)    // the same time field
    }

    @Test func datesOutsideTheFieldGiveItsBoundsNotACrash() {
        #expect(RecordID.make(at: Date(timeIntervalSince1970: -5)).hasPrefix("00000000-0000-7"))
        #expect(RecordID.make(at: .distantPast).hasPrefix("00000000-0000-7"))
        #expect(RecordID.make(at: Date(timeIntervalSince1970: 1e15)).hasPrefix("FFFFFFFF-FFFF-7"))
        #expect(RecordID.make(at: Date(timeIntervalSince1970: .infinity)).hasPrefix("00000000-0000-7"))
        #expect(RecordID.make(at: Date(timeIntervalSince1970: .nan)).hasPrefix("00000000-0000-7"))
    }

    @Test func entriesAndRecordsGetTimeOrderedIdsByDefault() {
        let first = MessageLogEntry(node: "n", interface: "Milter", verdict: "pass")
        Thread.sleep(forTimeInterval: 0.002)
        let second = MessageLogEntry(node: "n", interface: "Milter", verdict: "pass")
        #expect(first.id < second.id)
        #expect(Array(first.id)[14] == "7")
        let record = QuarantineRecord(node: "n", interface: "Milter", size: 1, verdict: "reject", file: "f")
        #expect(Array(record.id)[14] == "7")
    }
}
