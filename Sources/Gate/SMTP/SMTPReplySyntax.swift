import NIOCore

/// The syntax of replies and paths, as the relay reads and writes them.
extension SMTPRelaySession {

    /// The code of a reply line `ddd`, `ddd text` or `ddd-text`; nil when it is not one.
    static func replyCode(_ line: MailLine) -> Int? {
        let view = line.bytes.readableBytesView
        guard view.count >= 3 else { return nil }
        var code = 0
        for (i, byte) in view.prefix(3).enumerated() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            guard i > 0 || (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(byte) else { return nil }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
        }
        let next = view.dropFirst(3).first
        guard next == nil || next == UInt8(ascii: " ") || next == UInt8(ascii: "-")
              || next == UInt8(ascii: "\r") || next == UInt8(ascii: "\n") else { return nil }
        return code
    }

    static func isLastLine(_ line: MailLine) -> Bool {
        line.bytes.readableBytesView.dropFirst(3).first != UInt8(ascii: "-")
    }

    static func joined(_ lines: [MailLine]) -> ByteBuffer {
        if lines.count == 1 { return lines[0].bytes }
        var out = ByteBuffer()
        for line in lines { out.writeImmutableBuffer(line.bytes) }
        return out
    }

    /// The EHLO reply without the extensions Moat cannot honour; separators fixed so the last
    /// remaining line is `250 `.
    func filterEHLO(_ lines: [MailLine]) -> ByteBuffer {
        var kept: [String] = []
        for (index, line) in lines.enumerated() {
            let text = line.text
            let body = text.dropFirst(4)
            let keyword = body.prefix(while: { $0 != " " && $0 != "=" }).uppercased()
            if index > 0, configuration.removedExtensions.contains(keyword) { continue }
            if index > 0, keyword == "SIZE" {
                // The lower of the two limits: a client that honours SIZE never sends what the
                // Gate would refuse after reading it all (RFC 1870; 0 or none = no server limit).
                let server = SMTPCommand.decimal(body.dropFirst(4).drop(while: { $0 == " " })) ?? 0
                let limit = server == 0 ? configuration.maxMessageSize : min(server, configuration.maxMessageSize)
                kept.append("SIZE \(limit)")
                continue
            }
            kept.append(String(body))
        }
        var out = ByteBuffer()
        for (index, body) in kept.enumerated() {
            out.writeString("250" + (index == kept.count - 1 ? " " : "-") + body + "\r\n")
        }
        return out
    }

    /// `<a@b>` from `FROM:<a@b> SIZE=10`.
    static func path(_ argument: Substring, after prefix: String) -> String? {
        guard argument.uppercased().hasPrefix(prefix) else { return nil }
        let rest = argument.dropFirst(prefix.count).drop(while: { $0 == " " })
        if rest.first == "<", let close = rest.firstIndex(of: ">") {
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        return String(rest.prefix(while: { $0 != " " }))
    }

    /// A rule's text as one reply line: no CR/LF, printable, bounded.
    static func oneLine(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(400) {
            scalars.append(scalar.value < 0x20 || scalar.value == 0x7f ? " " : scalar)
        }
        let cleaned = String(scalars)
        return cleaned.isEmpty ? "Refused by the content policy" : cleaned
    }
}
