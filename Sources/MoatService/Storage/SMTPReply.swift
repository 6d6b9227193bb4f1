/// One SMTP reply read from the relay: `250-first` ... `250 last`. Bounded: at most
/// `maxLines` lines of `maxLine` bytes; a malformed or mixed-code reply is an error, never
/// taken as success.
struct SMTPReply: Sendable, Equatable {
    var code: Int
    var lines: [String]

    var text: String { "\(code) " + lines.joined(separator: " / ") }
    var isPositive: Bool { (200..<400).contains(code) }

    enum ParseError: Error, Equatable, CustomStringConvertible {
        case malformed(String)
        case tooLong

        var description: String {
            switch self {
            case .malformed(let line): "malformed SMTP reply line: \(line.prefix(80))"
            case .tooLong: "SMTP reply too long"
            }
        }
    }

    static let maxLine = 2048
    static let maxLines = 64

    /// Parses one reply from the start of `buffer`; nil when more bytes are needed. On
    /// success returns the reply and how many bytes it used.
    static func parse(_ buffer: [UInt8]) throws(ParseError) -> (SMTPReply, Int)? {
        var lines: [String] = []
        var code: Int?
        var start = 0
        while true {
            guard let newline = buffer[start...].firstIndex(of: 0x0A) else {
                if buffer.count - start > maxLine { throw .tooLong }
                return nil
            }
            var end = newline
            if end > start, buffer[end - 1] == 0x0D { end -= 1 }
            let line = buffer[start..<end]
            guard line.count <= maxLine else { throw .tooLong }
            let text = String(decoding: line, as: UTF8.self)
            let bytes = Array(line)
            guard bytes.count >= 3, bytes[0..<3].allSatisfy({ (0x30...0x39).contains($0) }),
                  bytes.count == 3 || bytes[3] == 0x20 || bytes[3] == 0x2D,
                  let lineCode = Int(String(decoding: bytes[0..<3], as: UTF8.self))
            else { throw .malformed(text) }
            if let code, code != lineCode { throw .malformed(text) }
            code = lineCode
            lines.append(bytes.count > 4 ? String(text.dropFirst(4)) : "")
            guard lines.count <= maxLines else { throw .tooLong }
            start = newline + 1
            if bytes.count == 3 || bytes[3] == 0x20 { return (SMTPReply(code: lineCode, lines: lines), start) }
        }
    }
}
