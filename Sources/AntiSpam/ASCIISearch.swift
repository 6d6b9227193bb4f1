extension StringProtocol {
    /// Whether the ASCII text `needle` occurs in this string's UTF-8 bytes.
    ///
    /// Not `contains(_: String)`: with Foundation imported that resolves to NSString's
    /// `range(of:)` through CoreFoundation, thousands of instructions a call, and the rules
    /// made a dozen such calls per message (2 % of moatd's instructions, callgrind).
    func containsASCII(_ needle: StaticString) -> Bool {
        let bytes = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard let first = bytes.first else { return true }
        if bytes.count == 1 { return utf8.contains(first) }
        return utf8.contains(bytes)
    }
}
