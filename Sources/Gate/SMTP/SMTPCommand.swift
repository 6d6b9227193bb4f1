import NIOCore

/// A client command line read the way the servers behind the Gate read it.
///
/// Postfix (`smtpd_string_split`) and Exim (`smtp_read_command`) skip leading white space, end
/// the verb at any white space and compare it without case: ` DATA`, `DATA<TAB>` and `  Data `
/// are DATA to them. A relay that reads the verb differently (up to the first space, say) sees
/// an unknown command where the server sees DATA, relays the server's 354 and then the message,
/// unscanned. So the Gate parses here exactly as they do, and what it sends upstream is the
/// command rebuilt from these fields (verb, one space, argument, CRLF): the server reads what
/// the Gate read, never the client's own spelling.
struct SMTPCommand: Equatable {
    /// Upper-cased verb.
    var verb: String
    /// The argument bytes, white space around them removed (may hold UTF-8 with SMTPUTF8).
    var argument: [UInt8]

    var argumentText: String { String(decoding: argument, as: UTF8.self) }

    /// Why a line is not a command the Gate will act on.
    enum Refusal: Error, Equatable {
        case empty
        /// NUL: C servers stop reading there, Swift strings do not; the two would disagree.
        case nul
        /// CR inside the line: a line end to some servers, not to others.
        case bareCR
        case tooLong
    }

    /// C's isspace(): what both servers treat as white space in a command line.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0d).contains(byte)
    }

    /// Parses one complete line (terminator included). A line longer than `limit` octets,
    /// terminator included, is refused whole: never truncated, never split into two commands.
    static func parse(_ line: ByteBuffer, limit: Int) -> Result<SMTPCommand, Refusal> {
        guard line.readableBytes <= limit else { return .failure(.tooLong) }
        var bytes = Array(line.readableBytesView)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        if bytes.contains(0) { return .failure(.nul) }
        if bytes.contains(UInt8(ascii: "\r")) { return .failure(.bareCR) }
        let trimmed = bytes.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        guard !trimmed.isEmpty else { return .failure(.empty) }
        let verbBytes = trimmed.prefix(while: { !isSpace($0) })
        let rest = trimmed.dropFirst(verbBytes.count).drop(while: isSpace)
        return .success(SMTPCommand(verb: String(decoding: verbBytes, as: UTF8.self).uppercased(),
                                    argument: Array(rest)))
    }

    /// The command as the Gate sends it upstream.
    var wire: ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(verb.utf8.count + argument.count + 3)
        out.writeString(verb)
        if !argument.isEmpty {
            out.writeInteger(UInt8(ascii: " "))
            out.writeBytes(argument)
        }
        out.writeString("\r\n")
        return out
    }

    /// `a@b` from `FROM:<a@b> SIZE=10` (prefix `FROM:`, without case; blanks after the colon allowed).
    func path(after prefix: String) -> String? {
        let text = argumentText
        guard text.uppercased().hasPrefix(prefix) else { return nil }
        let rest = text.dropFirst(prefix.count).drop(while: { $0 == " " || $0 == "\t" })
        if rest.first == "<", let close = rest.firstIndex(of: ">") {
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        return String(rest.prefix(while: { $0 != " " && $0 != "\t" }))
    }

    /// The ESMTP parameters after the path of MAIL/RCPT, keyword upper-cased: `SIZE=10` → ("SIZE", "10").
    func parameters() -> [(keyword: String, value: String?)] {
        let text = argumentText
        let afterPath: Substring
        if let close = text.firstIndex(of: ">") {
            afterPath = text[text.index(after: close)...]
        } else {
            afterPath = text.drop(while: { $0 != ":" }).dropFirst().drop(while: { $0 == " " || $0 == "\t" })
                .drop(while: { $0 != " " && $0 != "\t" })
        }
        return afterPath.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { word in
            if let equals = word.firstIndex(of: "=") {
                return (String(word[..<equals]).uppercased(), String(word[word.index(after: equals)...]))
            }
            return (String(word).uppercased(), nil)
        }
    }

    /// A decimal count a peer sent (BDAT size, SIZE=): digits only, no sign, at most 18 digits so
    /// it always fits; nil otherwise. Client numbers never reach arithmetic unchecked.
    static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }
}
