/// Content-Transfer-Encoding of a part.
public enum TransferEncoding: Hashable, Sendable, CustomStringConvertible {
    case sevenBit
    case eightBit
    case binary
    case base64
    case quotedPrintable
    /// `x-uuencode`, `uuencode`, `x-uue` (not standard, but common).
    case uuencode
    /// Anything else, lowercased; the body is passed through undecoded.
    case other(String)

    /// Parses a header value; surrounding whitespace, quotes and case are ignored.
    public init(headerValue: String) {
        var v = headerValue.lowercased()
        v.removeAll { $0 == "\"" || $0 == " " || $0 == "\t" }
        if let semicolon = v.firstIndex(of: ";") { v = String(v[..<semicolon]) }
        switch v {
        case "7bit", "": self = .sevenBit
        case "8bit": self = .eightBit
        // Misspellings seen in real mail; MUAs treat them as the obvious encoding.
        case "7-bit", "7bits": self = .sevenBit
        case "8-bit", "8bits": self = .eightBit
        case "quotedprintable", "quoted_printable", "qp": self = .quotedPrintable
        case "binary": self = .binary
        case "base64": self = .base64
        case "quoted-printable": self = .quotedPrintable
        case "x-uuencode", "uuencode", "x-uue", "uue": self = .uuencode
        default: self = .other(v)
        }
    }

    /// True for 7bit/8bit/binary (and unknown encodings): the body is used as is.
    public var isIdentity: Bool {
        switch self {
        case .base64, .quotedPrintable, .uuencode: false
        default: true
        }
    }

    public var description: String {
        switch self {
        case .sevenBit: "7bit"
        case .eightBit: "8bit"
        case .binary: "binary"
        case .base64: "base64"
        case .quotedPrintable: "quoted-printable"
        case .uuencode: "x-uuencode"
        case .other(let v): v
        }
    }
}
