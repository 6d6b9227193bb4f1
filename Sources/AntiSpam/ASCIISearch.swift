#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-string search for the rules: memchr to each candidate first byte, memcmp there.
///
/// Neither the standard library's `Collection.contains(_: some Collection)` (a generic
/// Z-algorithm searcher, unspecialised across modules: 0.2 M instructions per Milter message
/// for three two-byte needles in a subject) nor Foundation's `range(of:)` is cheap enough to
/// call per rule; Glibc's memmem is not exported to Swift.
enum ByteSearch {
    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first else { return true }
        guard var start = haystack.baseAddress, haystack.count >= needle.count else { return false }
        var remaining = haystack.count
        while remaining >= needle.count,
              let hit = memchr(start, Int32(first), remaining - needle.count + 1)?.assumingMemoryBound(to: UInt8.self) {
            if memcmp(hit, needle.baseAddress!, needle.count) == 0 { return true }
            remaining -= start.distance(to: hit) + 1
            start = UnsafePointer(hit) + 1
        }
        return false
    }
}

/// ASCII byte classes for the rules that read bytes (non-ASCII bytes are neither).
enum ASCIIByte {
    static func lowered(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }
}

extension StringProtocol {
    /// Whether the ASCII text `needle` occurs in this string's UTF-8 bytes.
    ///
    /// Not `contains(_: String)`: with Foundation imported that resolves to NSString's
    /// `range(of:)` through CoreFoundation, thousands of instructions a call, and the rules
    /// made a dozen such calls per message (2 % of moatd's instructions, callgrind).
    func containsASCII(_ needle: StaticString) -> Bool {
        let pin = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        if let found = utf8.withContiguousStorageIfAvailable({ ByteSearch.contains($0, pin) }) { return found }
        // Bridged or otherwise non-contiguous text: copy it once.
        return Array(utf8).withUnsafeBufferPointer { ByteSearch.contains($0, pin) }
    }
}
