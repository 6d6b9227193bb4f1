/// A time interval as Dr.Web writes it: `30s`, `5m`, `1h`, `2d`, `500ms`, or a sum like `1m30s`.
/// A bare number means seconds.
public struct ConfigDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> ConfigDuration { .init(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> ConfigDuration { .init(milliseconds: m * 60_000) }
    public static func days(_ d: Int64) -> ConfigDuration { .init(milliseconds: d * 86_400_000) }

    public var seconds: Double { Double(milliseconds) / 1000 }
    public var duration: Duration { .milliseconds(milliseconds) }

    static let expected = "a duration such as 30s, 5m, 1h, 1d or 500ms"
    private static let units: [(suffix: String, ms: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    public init(parsing text: String) throws(ValueError) {
        let s = text.trimmingWhitespace().lowercased()
        guard !s.isEmpty else { throw ValueError("empty duration", expected: Self.expected) }
        if let n = Int64(s) {
            guard n >= 0 else { throw ValueError("negative duration `\(text)`", expected: Self.expected) }
            self.milliseconds = n * 1000
            return
        }
        var total: Int64 = 0
        var rest = Substring(s)
        while !rest.isEmpty {
            let digits = rest.prefix(while: \.isASCIIDigitCharacter)
            guard !digits.isEmpty, let n = Int64(digits) else {
                throw ValueError("`\(text)` is not a duration", expected: Self.expected)
            }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix(while: { $0.isLetter })
            guard let unit = Self.units.first(where: { $0.suffix == letters }) else {
                throw ValueError("`\(text)` has an unknown time unit `\(letters)`", expected: Self.expected)
            }
            rest = rest.dropFirst(letters.count)
            let (product, overflow) = n.multipliedReportingOverflow(by: unit.ms)
            guard !overflow, total <= Int64.max - product else {
                throw ValueError("`\(text)` is too long a duration", expected: Self.expected)
            }
            total += product
        }
        self.milliseconds = total
    }

    /// The shortest exact spelling: `90s` stays `90s`, `120s` becomes `2m`.
    public var description: String {
        if milliseconds == 0 { return "0s" }
        for unit in Self.units.reversed() where milliseconds % unit.ms == 0 {
            return "\(milliseconds / unit.ms)\(unit.suffix)"
        }
        return "\(milliseconds)ms"
    }

    public static func < (a: ConfigDuration, b: ConfigDuration) -> Bool { a.milliseconds < b.milliseconds }
}
