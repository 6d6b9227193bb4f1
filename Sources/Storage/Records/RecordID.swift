import Foundation

/// Ids of message log rows and quarantine records: RFC 9562 UUID version 7, 48 bits of Unix
/// time in milliseconds followed by 74 random bits, in UUID text form.
///
/// Why not `UUID()` (version 4, all random): the id is the key of B-tree indexes (the message
/// log's primary key, its recipients' key, the quarantine's), on SQLite and PostgreSQL alike.
/// With random keys every insert lands on a different leaf page, so each batch of the storage
/// writer rewrites about a page per message per such index (in SQLite's WAL and then the file);
/// with time-ordered keys the rows of a batch fill the same pages at the index's right edge.
/// The ids stay unique (74 random bits per millisecond) and parse as UUIDs.
///
/// The random bits come from the standard library's generator (`getrandom`): Foundation's
/// `UUID()` on Linux opens, reads and closes /dev/urandom on every call.
public enum RecordID {
    public static func make(at date: Date = Date(), lowercase: Bool = false) -> String {
        // Clamped to the 48-bit field, never a trap in the conversion: a date before 1970 gives
        // 0, one past the year 10889 the field's maximum, an infinite or NaN one 0.
        let exact = (date.timeIntervalSince1970 * 1000).rounded(.down)
        let milliseconds = exact.isFinite ? UInt64(min(max(0, exact), Double(0xFFFF_FFFF_FFFF))) : 0
        var random = SystemRandomNumberGenerator()
        let high = random.next() as UInt64
        let low = random.next() as UInt64
        var b = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(i))) }
        b[6] = 0x70 | UInt8(truncatingIfNeeded: high & 0x0F)        // version 7
        b[7] = UInt8(truncatingIfNeeded: high >> 8)
        b[8] = 0x80 | UInt8(truncatingIfNeeded: (high >> 16) & 0x3F) // variant 10
        for i in 9..<16 { b[i] = UInt8(truncatingIfNeeded: low >> (8 * UInt64(i - 9))) }
        // Foundation formats it (`UUID(uuid:)` reads no randomness).
        let text = UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                               b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])).uuidString
        return lowercase ? text.lowercased() : text
    }
}
