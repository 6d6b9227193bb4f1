/// One web link of a message: from a plain-text part or an HTML `href`.
struct MessageURL: Sendable, Equatable {
    var raw: String
    /// Lower-cased host without port and userinfo ("" when there is none).
    var host: String
    /// `user@` before the host: the `http://bank.example@evil.example/` trick.
    var hasUserInfo: Bool
    /// For an HTML link: the text shown for it.
    var shownText: String?

    /// Parses `http://`, `https://` and bare `www.` links; nil for anything else.
    init?(_ raw: String, shownText: String? = nil) {
        var rest = Substring(raw.trimmingWhitespace())
        // Only the scheme is compared: lowering a whole link (tracking parameters of kilobytes)
        // cost more than the rest of the parsing.
        let lower = rest.prefix(8).lowercased()
        if lower.hasPrefix("http://") { rest = rest.dropFirst(7) }
        else if lower.hasPrefix("https://") { rest = rest.dropFirst(8) }
        else if !lower.hasPrefix("www.") { return nil }
        // The authority and its parts are found in the UTF-8 bytes: its delimiters are ASCII,
        // and a Set<Character> lookup per character (hashing each as a String) was most of
        // this parser's cost per message.
        let bytes = rest.utf8
        let authorityEnd = bytes.firstIndex(where: Self.endsAuthority) ?? bytes.endIndex
        var hostStart = bytes.startIndex, hostEnd = authorityEnd
        hasUserInfo = false
        if let at = bytes[..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
            hasUserInfo = true
            hostStart = bytes.index(after: at)
        }
        if bytes[hostStart..<hostEnd].first != UInt8(ascii: "["),
           let colon = bytes[hostStart..<hostEnd].lastIndex(of: UInt8(ascii: ":")) {
            hostEnd = colon
        }
        let hostPart = Substring(bytes[hostStart..<hostEnd])
        var trimmed = Substring(hostPart.lowercased())
        while trimmed.first == "." { trimmed = trimmed.dropFirst() }
        while trimmed.last == "." { trimmed = trimmed.dropLast() }
        host = String(trimmed)
        self.raw = String(raw.prefix(2048))
        self.shownText = shownText
    }

    /// Where the authority ends: a path, query or fragment, a backslash (browsers read it as
    /// a slash), white space, a quote or an angle bracket.
    private static func endsAuthority(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "/"), UInt8(ascii: "?"), UInt8(ascii: "#"), UInt8(ascii: "\\"), UInt8(ascii: " "), UInt8(ascii: "\t"),
             UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "<"), UInt8(ascii: ">"):
            true
        default:
            false
        }
    }

    /// Dotted-quad, decimal or bracketed IPv6 host instead of a name.
    var isIPLiteral: Bool {
        if host.hasPrefix("[") { return true }
        if !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) { return true }
        // Hex-encoded address (0x7f000001) or a host spelt in percent-escapes.
        return host.hasPrefix("0x") || host.containsASCII("%")
    }

    /// A label of the host starts with `xn--` (looked for in its bytes, not split into labels).
    var isPunycode: Bool {
        let bytes = Array(host.utf8)
        let prefix = Array("xn--".utf8)
        var start = 0
        while start + prefix.count <= bytes.count {
            if bytes[start..<start + prefix.count].elementsEqual(prefix) { return true }
            guard let dot = bytes[start...].firstIndex(of: UInt8(ascii: ".")) else { return false }
            start = dot + 1
        }
        return false
    }
}

/// Finds links in plain text: `http://`, `https://` and `www.` up to white space or a
/// closing bracket or quote.
enum PlainTextLinks {
    static func find(in text: String, limit: Int) -> [MessageURL] {
        var text = text
        return text.withUTF8 { find(in: $0, limit: limit) }
    }

    /// On the text's own UTF-8, not a copy; only bytes that can start `http` or `www` are
    /// looked at further (every byte went through the full test: 16 instructions a byte).
    private static func find(in bytes: UnsafeBufferPointer<UInt8>, limit: Int) -> [MessageURL] {
        var out: [MessageURL] = []
        var i = 0
        while i < bytes.count, out.count < limit {
            let lowered = bytes[i] | 0x20
            guard lowered == UInt8(ascii: "h") || lowered == UInt8(ascii: "w") else { i += 1; continue }
            let start = i
            guard startsLink(bytes, at: i) else { i += 1; continue }
            // A link starts a word: "xhttp://" is not one.
            if start > 0, isWordByte(bytes[start - 1]) { i += 1; continue }
            var end = start
            while end < bytes.count, !isLinkEnd(bytes[end]) { end += 1 }
            if let url = MessageURL(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)) {
                out.append(url)
            }
            i = max(end, start + 1)
        }
        return out
    }

    private static func startsLink(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        func lowerAt(_ j: Int) -> UInt8 { j < b.count ? (b[j] | 0x20) : 0 }
        if lowerAt(i) == UInt8(ascii: "h"), lowerAt(i + 1) == UInt8(ascii: "t"), lowerAt(i + 2) == UInt8(ascii: "t"),
           lowerAt(i + 3) == UInt8(ascii: "p") {
            let colon = lowerAt(i + 4) == UInt8(ascii: "s") ? i + 5 : i + 4
            return colon + 2 < b.count && b[colon] == UInt8(ascii: ":") && b[colon + 1] == UInt8(ascii: "/")
        }
        return lowerAt(i) == UInt8(ascii: "w") && lowerAt(i + 1) == UInt8(ascii: "w") && lowerAt(i + 2) == UInt8(ascii: "w")
            && i + 3 < b.count && b[i + 3] == UInt8(ascii: ".")
    }

    private static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A)
    }

    private static func isLinkEnd(_ b: UInt8) -> Bool {
        b <= 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") || b == UInt8(ascii: "<") || b == UInt8(ascii: ">")
            || b == UInt8(ascii: ")") || b == UInt8(ascii: "]") || b >= 0x80
    }
}
