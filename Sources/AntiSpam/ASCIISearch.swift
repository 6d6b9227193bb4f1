import CMemmem

/// Byte-string search for the rules: glibc's memmem.
///
/// Neither the standard library's `Collection.contains(_: some Collection)` (a generic
/// Z-algorithm searcher, unspecialised across modules: 0.2 M instructions per Milter message
/// for three two-byte needles in a subject) nor Foundation's `range(of:)` is cheap enough to
/// call per rule. memchr to the needle's first byte with memcmp there was, until text repeats
/// that byte: a body of `X` lines made it stop at every byte for GTUBE (`XJS*...`), 0.23 M a
/// 2 KB message. memmem skips by a shift table instead, linear in the worst case.
enum ByteSearch {
    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        return memmem(haystack.baseAddress, haystack.count, needle.baseAddress, needle.count) != nil
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
