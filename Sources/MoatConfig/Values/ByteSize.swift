/// A size as Dr.Web writes it: `10mb`, `512kb`, `1gb`, `100b`; a bare number means bytes.
/// Units are binary (1kb = 1024 bytes), as in the vendor's manual.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }
    public static func kilobytes(_ n: Int64) -> ByteSize { .init(bytes: n << 10) }
    public static func megabytes(_ n: Int64) -> ByteSize { .init(bytes: n << 20) }

    static let expected = "a size such as 512kb, 10mb, 1gb or a number of bytes"
    private static let units: [(suffix: [String], shift: Int64)] = [
        (["b"], 0), (["k", "kb"], 10), (["m", "mb"], 20), (["g", "gb"], 30), (["t", "tb"], 40),
    ]

    public init(parsing text: String) throws(ValueError) {
        let s = text.trimmingWhitespace().lowercased()
        let digits = s.prefix(while: \.isASCIIDigitCharacter)
        let suffix = s.dropFirst(digits.count).trimmingWhitespace()
        guard !digits.isEmpty, let n = Int64(digits) else {
            throw ValueError("`\(text)` is not a size", expected: Self.expected)
        }
        let shift: Int64
        if suffix.isEmpty {
            shift = 0
        } else if let unit = Self.units.first(where: { $0.suffix.contains(suffix) }) {
            shift = unit.shift
        } else {
            throw ValueError("`\(text)` has an unknown size unit `\(suffix)`", expected: Self.expected)
        }
        guard n <= (Int64.max >> shift) else { throw ValueError("`\(text)` is too large", expected: Self.expected) }
        self.bytes = n << shift
    }

    public var description: String {
        if bytes == 0 { return "0b" }
        for unit in Self.units.reversed() where bytes % (Int64(1) << unit.shift) == 0 {
            return "\(bytes >> unit.shift)\(unit.suffix.last!)"
        }
        return "\(bytes)b"
    }

    public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }
}
