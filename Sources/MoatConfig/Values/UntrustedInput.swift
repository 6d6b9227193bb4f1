/// Numbers and text that come from a peer (an MTA, a client, a message), checked here once for
/// every network parser and every log or page that shows them. Lives on the lowest floor so
/// MailD, the interfaces, the control socket, the console and the daemon share one rule.

/// A count a peer sent (a length, a chunk size, a port): plain digits only, bounded, and
/// parsed without any arithmetic that can trap.
public enum PeerNumber: Sendable, Equatable {
    /// Within the bound.
    case value(Int)
    /// Well-formed but above the bound (more digits than the bound needs, or a larger value).
    case tooLarge
    /// Empty, a sign (`-`, `+`), spaces inside, or another character than a digit.
    case invalid

    /// Decimal digits `0-9` only; at most as many digits as `max` has (leading zeros
    /// included), so the value never leaves Int.
    public static func decimal<S: StringProtocol>(_ text: S, max: Int) -> PeerNumber {
        parse(text.utf8, radix: 10, max: max)
    }

    /// Hexadecimal digits (either case) only, as in an HTTP chunk size.
    public static func hex<S: StringProtocol>(_ text: S, max: Int) -> PeerNumber {
        parse(text.utf8, radix: 16, max: max)
    }

    /// The value, or nil when invalid or too large.
    public var value: Int? {
        if case .value(let n) = self { return n }
        return nil
    }

    static func parse<C: Collection>(_ bytes: C, radix: Int, max: Int) -> PeerNumber where C.Element == UInt8 {
        precondition(max >= 0)
        guard !bytes.isEmpty else { return .invalid }
        var maxDigits = 1
        var rest = max / radix
        while rest > 0 { maxDigits += 1; rest /= radix }
        var value = 0
        var count = 0
        var overflow = false
        for byte in bytes {
            let digit: Int
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = Int(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = Int(byte - UInt8(ascii: "A")) + 10
            default: return .invalid
            }
            count += 1
            // Go on reading, so that a later non-digit still makes it invalid.
            if overflow || count > maxDigits { overflow = true; continue }
            let (shifted, o1) = value.multipliedReportingOverflow(by: radix)
            let (sum, o2) = shifted.addingReportingOverflow(digit)
            if o1 || o2 { overflow = true; continue }
            value = sum
        }
        return overflow || value > max ? .tooLarge : .value(value)
    }
}

/// Text from a peer or a message made safe for one log line or one table cell.
public enum LogText {
    /// The longest field kept; the rest is cut and counted.
    public static let defaultMaxLength = 512

    /// Control characters become visible escapes so a field can never end a log line, start a
    /// forged one, move a terminal's cursor or reorder what is shown: C0 (CR `\r`, LF `\n`,
    /// TAB `\t`, NUL `\0`, ESC `\e`, others `\xNN`), DEL and C1 (`\u{NN}`), the line and
    /// paragraph separators U+2028/2029, NEL, and the bidirectional controls (U+061C,
    /// U+200E/F, U+202A-202E, U+2066-2069), BOM/zero-width no-break space. Longer text is cut
    /// at `maxLength` characters and ends with `…[+N chars]`. The result has no character
    /// left to escape, so escaping twice (the event log, then the daemon's log handler) changes
    /// nothing; a backslash stays as it is (a literal `\n` in a field is two visible
    /// characters, not a line break).
    public static func escape<S: StringProtocol>(_ text: S, maxLength: Int = defaultMaxLength) -> String {
        // Most fields (addresses, ids, numbers) are short printable ASCII with nothing to
        // escape or cut: returned as they are, without a walk through their scalars (every
        // verdict line escapes a dozen fields twice).
        let utf8 = text.utf8
        if utf8.count <= maxLength, utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return String(text) }
        return escapingScalars(text, maxLength: maxLength)
    }

    /// The same for a `String`, the usual case: its UTF-8 is read in place, not through the
    /// generic `StringProtocol` (which other modules call unspecialised, a witness call per byte).
    public static func escape(_ text: String, maxLength: Int = defaultMaxLength) -> String {
        var text = text
        let plain = text.withUTF8 { bytes in
            bytes.count <= maxLength && !bytes.contains(where: { $0 < 0x20 || $0 >= 0x7F })
        }
        return plain ? text : escapingScalars(text, maxLength: maxLength)
    }

    private static func escapingScalars<S: StringProtocol>(_ text: S, maxLength: Int) -> String {
        var out = ""
        out.reserveCapacity(min(text.utf8.count, maxLength) + 8)
        var kept = 0
        var total = 0
        for scalar in text.unicodeScalars {
            total += 1
            guard kept < maxLength else { continue }
            kept += 1
            out += escaped(scalar)
        }
        if total > kept { out += "…[+\(total - kept) chars]" }
        return out
    }

    static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x00: return "\\0"
        case 0x1B: return "\\e"
        case 0x01...0x1F: return "\\x" + hex(scalar.value, 2)
        case 0x7F...0x9F, 0x2028, 0x2029, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF:
            return "\\u{" + hex(scalar.value, 2) + "}"
        default: return String(scalar)
        }
    }

    private static func hex(_ value: UInt32, _ width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
