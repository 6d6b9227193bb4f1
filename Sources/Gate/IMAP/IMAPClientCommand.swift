/// A client command as the relay needs to know it: its tag, its name, and what it means to the
/// relay. Parsed from the first line segment of the command (text before any literal).
struct IMAPClientCommand: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// SELECT or EXAMINE. `mailbox` is nil when the name came as a literal (unknown); INBOX
        /// is upper-cased because its name is case-insensitive.
        case select(mailbox: String?)
        /// CLOSE or UNSELECT.
        case unselect
        /// The client's lines are data until its DONE.
        case idle
        /// The client's lines (SASL responses) are data until the tagged reply.
        case authenticate
        case startTLS
        /// COMPRESS, URLFETCH, GENURLAUTH, RESETKEY: answered by the relay, never forwarded
        /// (a compressed stream cannot be scanned; URLFETCH returns content outside FETCH).
        case refused(reply: String)
        case other
    }

    var tag: String
    /// Upper-cased; `UID FETCH` and the like for UID commands.
    var name: String
    var kind: Kind

    /// A SELECT, EXAMINE, CLOSE or UNSELECT: FETCH responses while the server processes it may
    /// be about either mailbox.
    var changesSelection: Bool {
        switch kind {
        case .select, .unselect: true
        default: false
        }
    }

    /// The command on a first line segment; nil without a tag (an empty or garbled line).
    init?(line text: [UInt8]) {
        let tokens = IMAPTokenizer.tokenize(text)
        func word(_ i: Int) -> String? {
            guard i < tokens.count else { return nil }
            switch tokens[i] {
            case .atom(let a): return a
            case .quoted(let q): return String(decoding: q, as: UTF8.self)
            default: return nil
            }
        }
        guard let tag = word(0) else { return nil }
        var name = word(1)?.uppercased() ?? ""
        var argumentIndex = 2
        if name == "UID", let sub = word(2) {
            name = "UID " + sub.uppercased()
            argumentIndex = 3
        }
        self.tag = tag
        self.name = name
        guard Self.readsAsAServerDoes(text, tag: tag, verb: word(1)) else {
            kind = .refused(reply: "* BAD Command line not understood by the gateway\r\n")
            return
        }
        switch name {
        case "COMPRESS":
            kind = .refused(reply: "\(tag) NO [CANNOT] Compression is not available through this gateway\r\n")
        case "URLFETCH", "GENURLAUTH", "RESETKEY":
            kind = .refused(reply: "\(tag) NO [CANNOT] URLAUTH is not available through this gateway\r\n")
        case "STARTTLS":
            kind = .startTLS
        case "IDLE":
            kind = .idle
        case "AUTHENTICATE":
            kind = .authenticate
        case "SELECT", "EXAMINE":
            var mailbox = word(argumentIndex)
            if mailbox?.uppercased() == "INBOX" { mailbox = "INBOX" }
            kind = .select(mailbox: mailbox)
        case "CLOSE", "UNSELECT":
            kind = .unselect
        default:
            kind = .other
        }
    }

    /// Whether a server reads the same tag and verb: the words up to a space, a tag of
    /// ASTRING-CHARs but "+", a verb of ATOM-CHARs (RFC 9051). The tokenizer also splits at
    /// "(", ")", tabs and CRs and takes quoted strings, so `1 IDLE)e` would be IDLE to the relay
    /// and an unknown command to the server, which then reads the client's next `1 STARTTLS`
    /// as STARTTLS while the relay relays it as IDLE data. Such a line is answered by the relay
    /// and never forwarded (a server would refuse it anyway).
    static func readsAsAServerDoes(_ text: [UInt8], tag: String, verb: String?) -> Bool {
        let words = text.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: true)
        func isAtom(_ word: ArraySlice<UInt8>, alsoAllowing extra: UInt8? = nil) -> Bool {
            !word.isEmpty && word.allSatisfy { byte in
                byte > 0x20 && byte < 0x7F && (byte == extra || !Array("(){%*\"\\]".utf8).contains(byte))
            }
        }
        guard let first = words.first, isAtom(first, alsoAllowing: UInt8(ascii: "]")), !first.contains(UInt8(ascii: "+")),
              String(decoding: first, as: UTF8.self) == tag
        else { return false }
        guard let verb else { return true }
        return words.count > 1 && isAtom(words[1]) && String(decoding: words[1], as: UTF8.self) == verb
    }

    init(tag: String, name: String, kind: Kind) {
        self.tag = tag
        self.name = name
        self.kind = kind
    }
}
