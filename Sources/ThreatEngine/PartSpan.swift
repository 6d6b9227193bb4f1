/// Where one part lies in a file that holds several (a message's decoded parts written one
/// after the other): the sandbox hands a worker one descriptor and the spans of its parts, so
/// a message costs one round trip, not one per part. Each span is still its own libclamav
/// scan, with its own verdict, name and limits.
public struct PartSpan: Sendable, Hashable, Codable {
    /// A file name for libclamav's logs and name-based detections, if known.
    public var name: String?
    public var offset: Int
    /// nil: to the end of the file (a spooled message or a lone part).
    public var length: Int?

    public init(name: String?, offset: Int = 0, length: Int? = nil) {
        self.name = name
        self.offset = offset
        self.length = length
    }

    /// The byte range in a file of `size` bytes, or nil when the span does not fit in it.
    public func range(inFileOf size: Int) -> Range<Int>? {
        guard offset >= 0, offset <= size else { return nil }
        guard let length else { return offset..<size }
        guard length >= 0, length <= size - offset else { return nil }
        return offset..<(offset + length)
    }
}

/// A decoded part held in memory, on its way to a scan together with its message's others.
public struct ScanPart: Sendable {
    public var bytes: [UInt8]
    public var name: String?

    public init(bytes: [UInt8], name: String? = nil) {
        self.bytes = bytes
        self.name = name
    }
}
