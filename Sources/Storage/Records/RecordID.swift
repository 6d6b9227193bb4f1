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
        // Clamped to the 48-bit field: a date before 1970, past the year 10889 or not finite
        // gives the field's bound, never a trap in the conversion.
        let exact = (date.timeIntervalSince1970 * 1000).rounded(.down)
        let milliseconds = exact.isFinite ? UInt64(min(max(0, exact), Double(0xFFFF_FFFF_FFFF))) : 0
        var random = SystemRandomNumberGenerator()
        let high = random.next() as UInt64
        let low = random.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: milliseconds >> (40 - 8 * UInt64(i))) }
        bytes[6] = 0x70 | UInt8(truncatingIfNeeded: high & 0x0F)        // version 7
        bytes[7] = UInt8(truncatingIfNeeded: high >> 8)
        bytes[8] = 0x80 | UInt8(truncatingIfNeeded: (high >> 16) & 0x3F) // variant 10
        for i in 9..<16 { bytes[i] = UInt8(truncatingIfNeeded: low >> (8 * UInt64(i - 9))) }
        return format(bytes, digits: lowercase ? lowerDigits : upperDigits)
    }

    private static let upperDigits = Array("0123456789ABCDEF".utf8)
    private static let lowerDigits = Array("0123456789abcdef".utf8)

    /// 8-4-4-4-12 hex digits, as `UUID.uuidString`.
    private static func format(_ bytes: [UInt8], digits: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: 36) { text in
            var at = 0
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    text[at] = UInt8(ascii: "-")
                    at += 1
                }
                text[at] = digits[Int(byte >> 4)]
                text[at + 1] = digits[Int(byte & 0x0F)]
                at += 2
            }
            return at
        }
    }
}
