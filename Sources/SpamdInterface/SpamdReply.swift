import Foundation
import InterfaceSupport
import MailD
import MoatConfig

/// A reply as sent: bytes, then possibly part of an open spool file (sent, then closed).
public struct SpamdOutgoing: Sendable {
    public struct FilePart: Sendable {
        public var fd: Int32
        public var offset: Int64
        public var count: Int
    }

    public var bytes: [UInt8]
    public var file: FilePart?

    public init(bytes: [UInt8], file: FilePart? = nil) {
        self.bytes = bytes
        self.file = file
    }
}

/// A decision as spamd clients understand it: spam or not, a score against a threshold, the
/// names of what matched and a report. The score is the anti-spam engine's points; a refusal
/// by the content policy (a threat, a rule's REJECT) below the threshold is `spamScore`, so a
/// refused message is spam to the client whatever its points.
public struct SpamdVerdict: Sendable, Equatable {
    public static let threshold = 5.0
    public static let spamScore = 100.0

    public var isSpam: Bool
    public var score: Double
    public var threshold: Double
    public var symbols: [String]
    /// Lines of the report; the first is the rule's text for spam (Exim's `$spam_report`),
    /// then SpamAssassin's "Content analysis details" table of the anti-spam symbols.
    public var report: [String]
    /// Header fields PROCESS and HEADERS add.
    public var headers: [(name: String, value: String)]
    /// Set for TEMPFAIL: the reply is this error, so Exim defers and spamc passes the mail.
    public var error: SpamdError?

    public static func == (a: Self, b: Self) -> Bool {
        a.isSpam == b.isSpam && a.score == b.score && a.symbols == b.symbols && a.report == b.report
            && a.error == b.error && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    public init(_ decision: Decision, threshold: Double = Self.threshold) {
        let spam = decision.report.spam
        var symbols: [String] = spam?.symbols.map(\.name) ?? []
        var details: [String] = []
        let threats = Array(Set(decision.report.threats.map { "\($0.name) (\($0.category))" })).sorted()
        if !threats.isEmpty {
            symbols.append("MOAT_THREAT")
            details.append(" Threats: " + threats.joined(separator: ", "))
        }
        if decision.report.status == .unchecked {
            symbols.append("MOAT_UNCHECKED")
            details.append(" Unchecked: " + Array(Set(decision.report.unchecked.map(\.description))).sorted().joined(separator: ", "))
        }
        if let rule = decision.decidingRule {
            symbols.append("MOAT_RULE_\(rule.number)")
        }
        let refusal: String?
        switch decision.mailAction {
        case .reject(let text), .repack(_, let text): refusal = text
        case .discard: refusal = "The message was discarded by the content policy"
        case .tempfail, .pass: refusal = nil
        }
        let points = ((spam?.points ?? 0) * 10).rounded() / 10
        isSpam = refusal != nil || points >= threshold
        score = refusal != nil && points < threshold ? Self.spamScore : points
        self.threshold = threshold
        self.symbols = symbols
        error = nil
        if case .tempfail(let text) = decision.mailAction {
            error = SpamdError(.tempFail, "EX_TEMPFAIL " + Self.oneLine(text))
        }
        if let refusal {
            report = [refusal] + details + [" Decided by: \(decision.reason)"]
        } else if isSpam {
            report = ["Moat: spam score \(Self.number(points)) reached the threshold \(Self.number(threshold))"] + details
        } else {
            report = ["Moat: no content policy objection"] + details
        }
        if let spam { report += Self.analysis(spam, points: points, threshold: threshold) }
        var headers = decision.headersToAdd
        let status = "\(isSpam ? "Yes" : "No"), score=\(Self.number(score)) required=\(Self.number(threshold))"
            + (symbols.isEmpty ? "" : " tests=\(symbols.joined(separator: ","))")
        if isSpam { headers.insert(("X-Spam-Flag", "YES"), at: 0) }
        headers.append(("X-Spam-Status", status))
        self.headers = headers
    }

    /// SpamAssassin's table: points, rule name, description, one symbol a line.
    static func analysis(_ spam: SpamReport, points: Double, threshold: Double) -> [String] {
        var lines = ["", "Content analysis details:   (\(number(points)) points, \(number(threshold)) required)", "",
                     " pts rule name              description",
                     "---- ---------------------- --------------------------------------------------"]
        for symbol in spam.symbols {
            let name = symbol.name.count >= 22 ? symbol.name + " " : symbol.name.padding(toLength: 23, withPad: " ", startingAt: 0)
            lines.append(DecimalText.padded(symbol.score, places: 1, width: 4) + " " + name + oneLine(symbol.description))
        }
        if let note = spam.statisticsNote { lines.append(" 0.0 BAYES_NOT_USED         " + note) }
        return lines
    }

    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    /// spamd's `%2.1f`.
    static func number(_ value: Double) -> String { DecimalText.fixed(value, places: 1) }
}

/// The bytes of spamd's replies, shaped by the client's protocol version (spamd 4.0's rules:
/// Exim's SPAMC/1.2 breaks on the 1.3+ shape; spamc needs Content-length from 1.3 on).
public enum SpamdReply {
    public static let pong = Array("SPAMD/1.5 0 PONG\r\n".utf8)

    static func spamLine(_ v: SpamdVerdict, yesNo: Bool = false) -> String {
        let word = yesNo ? (v.isSpam ? "Yes" : "No") : (v.isSpam ? "True" : "False")
        // A ham score that rounds up to the threshold is printed just below it.
        var score = SpamdVerdict.number(v.score)
        if !v.isSpam, Double(score) ?? 0 >= v.threshold { score = SpamdVerdict.number(v.threshold - 0.1) }
        return "Spam: \(word) ; \(score) / \(SpamdVerdict.number(v.threshold))\r\n"
    }

    /// The reply to a message request; `message` is the message as received (PROCESS, HEADERS).
    public static func render(_ head: SpamdRequestHead, _ v: SpamdVerdict, message: () -> [UInt8]?) -> [UInt8] {
        if let error = v.error { return Array(error.line.utf8) }
        let status = "SPAMD/1.1 0 EX_OK\r\n"
        let modern = head.version >= SpamdVersion(1, 3)
        func withBody(_ body: [UInt8], spamLine line: String, legacyTrailer: String = "") -> [UInt8] {
            if modern {
                return Array((status + "Content-length: \(body.count)\r\n" + line + "\r\n").utf8) + body
            }
            return Array((status + line + "\r\n").utf8) + body + Array(legacyTrailer.utf8)
        }
        switch head.method {
        case .check:
            return Array((status + spamLine(v) + "\r\n").utf8)
        case .symbols:
            return withBody(Array(v.symbols.joined(separator: ",").utf8), spamLine: spamLine(v), legacyTrailer: "\r\n")
        case .report:
            return withBody(Array(reportText(v).utf8), spamLine: spamLine(v))
        case .reportIfSpam:
            return withBody(v.isSpam ? Array(reportText(v).utf8) : [], spamLine: spamLine(v, yesNo: true))
        case .process, .headers:
            guard let original = message() else { return readBackError }
            var rewritten = rewrite(original, adding: v.headers)
            if head.method == .headers { rewritten = Array(rewritten[..<headerBlockEnd(rewritten)]) }
            return messageStatus(head, v, length: rewritten.count) + rewritten
        case .ping:
            return pong
        case .skip:
            return []
        case .tell:
            // Answered by `tell(_:outcome:)` once the message was learned.
            return Array(SpamdError(.software, "EX_SOFTWARE TELL is answered by the learning path").line.utf8)
        }
    }

    /// What TELL asks for: `Message-class: spam|ham` with `Set: local`, or `Remove: local`.
    /// nil learned class is forget; nil overall is a request Moat does not do (a remote
    /// database only).
    public static func tellRequest(_ head: SpamdRequestHead) -> (learnedClass: LearnedClass?, set: Bool)? {
        let set = (head.header("Set") ?? "").lowercased().contains("local")
        let remove = (head.header("Remove") ?? "").lowercased().contains("local")
        if remove && !set { return (nil, false) }
        guard set, let c = head.header("Message-class").flatMap({ LearnedClass(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased()) })
        else { return nil }
        return (c, true)
    }

    /// spamd's TELL reply: `DidSet: local` or `DidRemove: local` when the model changed
    /// (spamc -L prints "Message successfully un/learned"), none when it did not ("Message
    /// was already un/learned").
    public static func tell(_ head: SpamdRequestHead, set: Bool, outcome: LearnOutcome) -> [UInt8] {
        var lines = "SPAMD/1.1 0 EX_OK\r\n"
        if outcome.changed { lines += set ? "DidSet: local\r\n" : "DidRemove: local\r\n" }
        return Array((lines + "\r\n").utf8)
    }

    static let readBackError = Array(SpamdError(.ioError, "EX_IOERR cannot read the message back").line.utf8)

    /// The status lines in front of a returned message (PROCESS, HEADERS) of `length` bytes.
    static func messageStatus(_ head: SpamdRequestHead, _ v: SpamdVerdict, length: Int) -> [UInt8] {
        let status = "SPAMD/1.1 0 EX_OK\r\n"
        if head.version >= SpamdVersion(1, 3) {
            return Array((status + "Content-length: \(length)\r\n" + spamLine(v) + "\r\n").utf8)
        }
        if head.version >= SpamdVersion(1, 2) {
            return Array((status + "Content-length: \(length)\r\n\r\n").utf8)
        }
        return Array("SPAMD/1.0 0 EX_OK\r\n".utf8)
    }

    /// The reply to a message request whose message is in a spool file. PROCESS does not read
    /// the message back whole: only its header block (within `headerLimit`) is read and
    /// rewritten, the rest is sent from the file (`SpamdOutgoing.file`). A message whose
    /// header block does not end within `headerLimit` is read whole, as `render` does.
    public static func render(_ head: SpamdRequestHead, _ v: SpamdVerdict, spooled path: String,
                              headerLimit: Int = 1 << 20) -> SpamdOutgoing {
        let whole = { SpamdOutgoing(bytes: render(head, v) { MessageBytes.read(.file(path: path)) }) }
        guard v.error == nil, head.method == .process || head.method == .headers else { return whole() }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return SpamdOutgoing(bytes: readBackError) }
        var info = stat()
        guard fstat(fd, &info) == 0, let prefix = readPrefix(fd, count: min(Int(info.st_size), headerLimit)) else {
            close(fd)
            return SpamdOutgoing(bytes: readBackError)
        }
        let size = Int(info.st_size)
        guard let empty = emptyLine(prefix) else {
            close(fd)
            return whole()
        }
        let rewritten = rewrite(Array(prefix[..<empty.end]), adding: v.headers)
        let rest = size - empty.end
        if head.method == .headers || rest == 0 {
            close(fd)
            return SpamdOutgoing(bytes: messageStatus(head, v, length: rewritten.count) + rewritten)
        }
        return SpamdOutgoing(bytes: messageStatus(head, v, length: rewritten.count + rest) + rewritten,
                             file: .init(fd: fd, offset: Int64(empty.end), count: rest))
    }

    static func readPrefix(_ fd: Int32, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, count - got, off_t(got)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return nil }
            got += n
        }
        return bytes
    }

    static func reportText(_ v: SpamdVerdict) -> String {
        v.report.joined(separator: "\n") + "\n"
    }

    /// Where the empty line that ends the header block starts, and the offset just past it;
    /// nil when the message has no empty line.
    static func emptyLine(_ message: [UInt8]) -> (start: Int, end: Int)? {
        var lineStart = 0
        var index = 0
        while index < message.count {
            if message[index] == UInt8(ascii: "\n") {
                let length = index - lineStart
                if length == 0 || (length == 1 && message[lineStart] == UInt8(ascii: "\r")) { return (lineStart, index + 1) }
                lineStart = index + 1
            }
            index += 1
        }
        return nil
    }

    static func headerBlockEnd(_ message: [UInt8]) -> Int { emptyLine(message)?.end ?? message.count }

    /// The message with the header fields added at the end of its header block, in the
    /// message's own line ending.
    static func rewrite(_ message: [UInt8], adding headers: [(name: String, value: String)]) -> [UInt8] {
        let crlf = message.firstIndex(of: UInt8(ascii: "\n")).map { $0 > 0 && message[$0 - 1] == UInt8(ascii: "\r") } ?? true
        let newline = crlf ? "\r\n" : "\n"
        let added = Array(headers.map { "\($0.name): \(SpamdVerdict.oneLine($0.value))\(newline)" }.joined().utf8)
        if let empty = emptyLine(message) {
            return Array(message[..<empty.start]) + added + Array(message[empty.start...])
        }
        let separator: [UInt8] = message.isEmpty || message.last == UInt8(ascii: "\n") ? [] : Array(newline.utf8)
        return message + separator + added + Array(newline.utf8)
    }
}
