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

    init(tag: String, name: String, kind: Kind) {
        self.tag = tag
        self.name = name
        self.kind = kind
    }
}
