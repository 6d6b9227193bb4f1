import NIOCore
import Testing
@testable import Gate

/// What an IMAP session did, flattened for comparisons.
struct IMAPTranscript {
    var toServer: [UInt8] = []
    var toClient: [UInt8] = []
    var checks: [(id: MailCheckID, message: [UInt8], ref: IMAPMessageRef, item: String)] = []
    var others: [IMAPRelaySession.Action] = []

    var clientText: String { String(decoding: toClient, as: UTF8.self) }
    var serverText: String { String(decoding: toServer, as: UTF8.self) }

    mutating func record(_ actions: [IMAPRelaySession.Action]) {
        for action in actions {
            switch action {
            case .sendToServer(let b): toServer += Array(b.readableBytesView)
            case .sendToClient(let b): toClient += Array(b.readableBytesView)
            case .checkMessage(let id, let m, let ref, let item): checks.append((id, m, ref, item))
            default: others.append(action)
            }
        }
    }
}

@Suite struct IMAPCodecTests {
    /// Frames `pieces` and renders events: "S|" segment text, "L|" literal bytes (merged), "E" end.
    func frame(_ pieces: [[UInt8]], direction: IMAPFramer.Direction) throws -> [String] {
        var framer = IMAPFramer(direction: direction, maxLineLength: 1000)
        var events: [String] = []
        for piece in pieces {
            framer.append(buf(piece))
            while let event = try framer.next() {
                switch event {
                case .segment(let s, let textLength, let literal, let first):
                    let marker = literal.map { "\($0.length)\($0.binary ? "~" : "")\($0.form)" } ?? "-"
                    events.append("S\(first ? "1" : "n")|\(textLength)|\(marker)|" + String(buffer: s))
                case .literalBytes(let b):
                    if let last = events.last, last.hasPrefix("L|") {
                        events[events.count - 1] = last + String(buffer: b)
                    } else {
                        events.append("L|" + String(buffer: b))
                    }
                case .literalEnd:
                    events.append("E")
                }
            }
        }
        return events
    }

    @Test func responseLiteralsOfAllFormsOnEverySplit() throws {
        let stream = "* OK [CAPABILITY IMAP4rev1] ready {5}\r\n"   // free text: no literal
            + "* 1 FETCH (BODY[] {5}\r\nab\r\nc FLAGS (\\Seen))\r\n"
            + "* 2 FETCH (BINARY[] ~{3}\r\n\u{0}\r\n)\r\n"
            + "* 3 FETCH (BODY[TEXT] {0}\r\n ENVELOPE (\"a {3}\" NIL))\r\n"
            + "* LIST () \"/\" {4}\r\nA\"{}\r\n"
            + "+ go ahead {2}\r\n"
            + "a1 OK done\r\n"
        let expected = try frame([Array(stream.utf8)], direction: .fromServer)
        #expect(expected == [
            "S1|37|-|* OK [CAPABILITY IMAP4rev1] ready {5}\r\n",
            "S1|18|5synchronizing|* 1 FETCH (BODY[] {5}\r\n", "L|ab\r\nc", "E", "Sn|15|-| FLAGS (\\Seen))\r\n",
            "S1|20|3~synchronizing|* 2 FETCH (BINARY[] ~{3}\r\n", "L|\u{0}\r\n", "E", "Sn|1|-|)\r\n",
            "S1|22|0synchronizing|* 3 FETCH (BODY[TEXT] {0}\r\n", "E", "Sn|24|-| ENVELOPE (\"a {3}\" NIL))\r\n",
            "S1|14|4synchronizing|* LIST () \"/\" {4}\r\n", "L|A\"{}", "E", "Sn|0|-|\r\n",
            "S1|14|-|+ go ahead {2}\r\n",
            "S1|10|-|a1 OK done\r\n",
        ])
        for pieces in everySplit(Array(stream.utf8), randomRuns: 32) {
            #expect(try frame(pieces, direction: .fromServer) == expected)
        }
    }

    @Test func commandLiteralsOfAllFormsOnEverySplit() throws {
        let stream = "a1 LOGIN {5+}\r\nalice {6-}\r\nsecret\r\n"
            + "a2 APPEND INBOX (\\Seen) {4}\r\nabcd\r\n"
            + "a3 APPEND INBOX ~{2}\r\n\u{0}\u{1}\r\n"
            + "a4 SELECT \"odd {1}\"\r\n"
        let expected = try frame([Array(stream.utf8)], direction: .fromClient)
        #expect(expected == [
            "S1|9|5nonSynchronizing|a1 LOGIN {5+}\r\n", "L|alice", "E",
            "Sn|1|6nonSynchronizingMinus| {6-}\r\n", "L|secret", "E", "Sn|0|-|\r\n",
            "S1|24|4synchronizing|a2 APPEND INBOX (\\Seen) {4}\r\n", "L|abcd", "E", "Sn|0|-|\r\n",
            "S1|16|2~synchronizing|a3 APPEND INBOX ~{2}\r\n", "L|\u{0}\u{1}", "E", "Sn|0|-|\r\n",
            "S1|19|-|a4 SELECT \"odd {1}\"\r\n",
        ])
        for pieces in everySplit(Array(stream.utf8), randomRuns: 32) {
            #expect(try frame(pieces, direction: .fromClient) == expected)
        }
    }

    @Test func lineLimit() {
        var framer = IMAPFramer(direction: .fromServer, maxLineLength: 10)
        framer.append(buf("* 1 EXISTS and more text\r\n"))
        #expect(throws: IMAPDecodeError.lineTooLong(limit: 10)) { try framer.next() }
    }

    @Test func tokenizer() {
        let tokens = IMAPTokenizer.tokenize(Array(#"* 1 FETCH (UID 7 BODY[HEADER.FIELDS (FROM TO)]<0> "q \"x\" \\ y" NIL (\Seen))"#.utf8))
        #expect(tokens == [
            .atom("*"), .atom("1"), .atom("FETCH"), .listOpen, .atom("UID"), .atom("7"),
            .atom("BODY[HEADER.FIELDS (FROM TO)]<0>"), .quoted(Array(#"q "x" \ y"#.utf8)), .atom("NIL"),
            .listOpen, .atom("\\Seen"), .listClose, .listClose,
        ])
    }

    @Test func fetchItemRoles() {
        for whole in ["BODY[]", "body.peek[]", "RFC822", "BINARY[]"] {
            #expect(IMAPFetchLiteralRole.classify(item: whole) == .wholeMessage(item: whole))
        }
        for header in ["BODY[HEADER]", "BODY[1.MIME]", "RFC822.HEADER", "BODY[HEADER.FIELDS (FROM)]", "BODY[2.HEADER.FIELDS.NOT (X)]<0>"] {
            #expect(IMAPFetchLiteralRole.classify(item: header) == .header(item: header))
        }
        for part in ["BODY[1]", "BODY[TEXT]", "BODY[]<0>", "RFC822.TEXT", "BINARY[2]", "BODY[1.2]<100>"] {
            #expect(IMAPFetchLiteralRole.classify(item: part) == .partialContent(item: part))
        }
        #expect(IMAPFetchLiteralRole.classify(item: "X-GM-LABELS") == .other)
    }

    @Test func capabilityFilter() {
        func strip(_ s: String) -> String? { IMAPCapabilityFilter.strip(line: Array(s.utf8)).map { String(decoding: $0, as: UTF8.self) } }
        #expect(strip("* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE\r\n") == "* CAPABILITY IMAP4rev1 IDLE\r\n")
        #expect(strip("* OK [CAPABILITY compress=deflate IMAP4rev1 STARTTLS] Dovecot ready. COMPRESS=DEFLATE\r\n")
                == "* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready. COMPRESS=DEFLATE\r\n")
        #expect(strip("a1 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] Logged in\r\n") == "a1 OK [CAPABILITY IMAP4rev1] Logged in\r\n")
        #expect(strip("* CAPABILITY IMAP4rev1 IDLE\r\n") == nil)
        #expect(strip("* 3 EXISTS\r\n") == nil)
    }
}

@Suite struct IMAPRelaySessionTests {
    let greeting = "* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE] ready\r\n"
    let message = "From: a@example.org\r\nSubject: hi\r\n\r\nbody with {3}\r\n"

    func started(_ configuration: IMAPRelaySession.Configuration = .init()) -> (IMAPRelaySession, IMAPTranscript) {
        var session = IMAPRelaySession(configuration: configuration)
        var t = IMAPTranscript()
        t.record(session.serverBytes(buf(greeting)))
        t.record(session.clientBytes(buf("s1 SELECT INBOX\r\n")))
        t.record(session.serverBytes(buf("* 3 EXISTS\r\n* OK [UIDVALIDITY 1234] UIDs valid\r\ns1 OK [READ-WRITE] done\r\n")))
        return (session, t)
    }

    var preamble: String { greeting + "* 3 EXISTS\r\n* OK [UIDVALIDITY 1234] UIDs valid\r\ns1 OK [READ-WRITE] done\r\n" }

    @Test func wholeMessageFetchReplacedWithNewLiteralLength() throws {
        var (session, t) = started()
        t.record(session.clientBytes(buf("f1 UID FETCH 7 (FLAGS BODY.PEEK[])\r\n")))
        let head = "* 2 FETCH (UID 7 BODY[] {\(message.utf8.count)}\r\n"
        let tail = " FLAGS (\\Seen \\Answered))\r\n"
        t.record(session.serverBytes(buf(head + message + tail + "f1 OK done\r\n")))
        #expect(t.clientText == preamble + "* 2 FETCH (UID 7 BODY[] ")
        let check = try #require(t.checks.first)
        #expect(String(decoding: check.message, as: UTF8.self) == message)
        #expect(check.item == "BODY[]")
        #expect(check.ref == IMAPMessageRef(sequence: 2, uid: 7, mailbox: "INBOX", uidValidity: 1234))
        let replacement = "Subject: repacked\r\n\r\nThe message was moved into an archive.\r\n"
        t.record(session.checkFinished(id: check.id, verdict: .deliver(Array(replacement.utf8))))
        #expect(t.clientText == preamble + "* 2 FETCH (UID 7 BODY[] {\(replacement.utf8.count)}\r\n" + replacement + tail + "f1 OK done\r\n")
        #expect(session.outstandingTags.isEmpty)
    }

    @Test func fetchPassedUnchangedOnEverySplit() throws {
        let response = "* 2 FETCH (UID 7 RFC822.SIZE 60 BODY[HEADER] {4}\r\nab\r\n BODY[] {\(message.utf8.count)}\r\n" + message
            + " FLAGS ())\r\n* 4 EXISTS\r\nf1 OK done\r\n"
        for pieces in everySplit(Array(response.utf8), randomRuns: 32) {
            var (session, t) = started()
            t.record(session.clientBytes(buf("f1 UID FETCH 7 (UID RFC822.SIZE BODY[HEADER] BODY.PEEK[])\r\n")))
            for piece in pieces { t.record(session.serverBytes(buf(piece))) }
            #expect(t.checks.count == 1)
            #expect(t.checks.first.map { String(decoding: $0.message, as: UTF8.self) } == message)
            if let id = t.checks.first?.id { t.record(session.checkFinished(id: id, verdict: .pass)) }
            #expect(t.clientText == preamble + response)
            #expect(t.others.isEmpty)
        }
    }

    @Test func multipleWholeItemsAndLiteral8() throws {
        var (session, t) = started()
        t.record(session.clientBytes(buf("f1 FETCH 1 (RFC822 BINARY.PEEK[])\r\n")))
        t.record(session.serverBytes(buf("* 1 FETCH (RFC822 {3}\r\nabc BINARY[] ~{2}\r\n\u{0}z UID 9)\r\nf1 OK\r\n")))
        #expect(t.checks.map(\.item) == ["RFC822", "BINARY[]"])
        #expect(t.checks.map(\.ref.uid) == [9, 9])
        t.record(session.checkFinished(id: t.checks[1].id, verdict: .deliver(Array("XYZ".utf8))))
        #expect(t.clientText == preamble + "* 1 FETCH (RFC822 ")
        t.record(session.checkFinished(id: t.checks[0].id, verdict: .pass))
        #expect(t.clientText == preamble + "* 1 FETCH (RFC822 {3}\r\nabc BINARY[] ~{3}\r\nXYZ UID 9)\r\nf1 OK\r\n")
    }

    @Test func zeroLengthWholeMessage() throws {
        var (session, t) = started()
        t.record(session.serverBytes(buf("* 1 FETCH (BODY[] {0}\r\n)\r\n")))
        let check = try #require(t.checks.first)
        #expect(check.message.isEmpty)
        t.record(session.checkFinished(id: check.id, verdict: .pass))
        #expect(t.clientText == preamble + "* 1 FETCH (BODY[] {0}\r\n)\r\n")
    }

    @Test func laterResponsesWaitBehindHeldFetch() {
        var (session, t) = started()
        t.record(session.serverBytes(buf("* 1 FETCH (BODY[] {2}\r\nhi)\r\n* 5 EXISTS\r\n")))
        #expect(t.clientText == preamble + "* 1 FETCH (BODY[] ")
        t.record(session.checkFinished(id: t.checks[0].id, verdict: .pass))
        #expect(t.clientText == preamble + "* 1 FETCH (BODY[] {2}\r\nhi)\r\n* 5 EXISTS\r\n")
    }

    @Test func partialFetchPassesUncheckedUnlessKnownBad() {
        var (session, t) = started()
        let response = "* 2 FETCH (UID 7 BODY[1] {3}\r\nabc)\r\n"
        t.record(session.serverBytes(buf(response)))
        #expect(t.clientText == preamble + response)
        #expect(t.checks.isEmpty)
        let ref = IMAPMessageRef(sequence: 2, uid: 7, mailbox: "INBOX", uidValidity: 1234)
        #expect(t.others == [.unchecked(.partialFetch(item: "BODY[1]"), ref: ref)])
        t.others.removeAll()

        session.noteBlocked(IMAPMessageKey(mailbox: "INBOX", uidValidity: 1234, uid: 7))
        t.record(session.serverBytes(buf("* 2 FETCH (BODY[]<0> {3}\r\nabc UID 7)\r\n")))
        #expect(t.clientText == preamble + response + "* 2 FETCH (BODY[]<0> {0}\r\n UID 7)\r\n")
        #expect(t.others.isEmpty)
    }

    @Test func replacedMessageBlanksLaterPartsAndHeadersPass() {
        var (session, t) = started()
        t.record(session.serverBytes(buf("* 2 FETCH (UID 8 BODY[] {2}\r\nhi)\r\n")))
        t.record(session.checkFinished(id: t.checks[0].id, verdict: .deliver(Array("notice".utf8))))
        let before = t.clientText
        t.record(session.serverBytes(buf("* 2 FETCH (UID 8 BODY[HEADER] {2}\r\nh: BODY[2] {4}\r\nEVIL)\r\n")))
        #expect(t.clientText == before + "* 2 FETCH (UID 8 BODY[HEADER] {2}\r\nh: BODY[2] {0}\r\n)\r\n")
    }

    @Test func tooLargeLiteralStreamsUnchecked() {
        var (session, t) = started(.init(maxLiteralSize: 4))
        let response = "* 2 FETCH (UID 7 BODY[] {10}\r\n0123456789)\r\n"
        let bytes = Array(response.utf8)
        t.record(session.serverBytes(buf(Array(bytes[0..<35]))))
        t.record(session.serverBytes(buf(Array(bytes[35...]))))
        #expect(t.clientText == preamble + response)
        #expect(t.others == [.unchecked(.tooLarge(limit: 4), ref: IMAPMessageRef(sequence: 2, uid: 7, mailbox: "INBOX", uidValidity: 1234))])
    }

    @Test func idleLinesAreNotCommands() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("i1 IDLE\r\n")))
        t.record(session.serverBytes(buf("+ idling\r\n")))
        #expect(session.isIdling)
        t.record(session.serverBytes(buf("* 4 EXISTS\r\n")))
        t.record(session.clientBytes(buf("DONE\r\n")))
        #expect(session.outstandingTags == ["i1"])
        t.record(session.serverBytes(buf("i1 OK IDLE terminated\r\n")))
        #expect(!session.isIdling)
        #expect(session.outstandingTags.isEmpty)
        #expect(t.serverText == "s1 SELECT INBOX\r\ni1 IDLE\r\nDONE\r\n")
        #expect(t.clientText == preamble + "+ idling\r\n* 4 EXISTS\r\ni1 OK IDLE terminated\r\n")
    }

    @Test func compressIsStrippedAndRefusedLocally() {
        var session = IMAPRelaySession()
        var t = IMAPTranscript()
        t.record(session.serverBytes(buf("* OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] hi\r\n")))
        t.record(session.clientBytes(buf("c1 CAPABILITY\r\n")))
        t.record(session.serverBytes(buf("* CAPABILITY IMAP4rev1 COMPRESS=DEFLATE IDLE\r\nc1 OK\r\n")))
        t.record(session.clientBytes(buf("c2 LOGIN a b\r\n")))
        t.record(session.serverBytes(buf("c2 OK [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] in\r\n")))
        t.record(session.clientBytes(buf("c3 COMPRESS DEFLATE\r\nc4 NOOP\r\n")))
        t.record(session.serverBytes(buf("c4 OK\r\n")))
        #expect(t.serverText == "c1 CAPABILITY\r\nc2 LOGIN a b\r\nc4 NOOP\r\n")
        #expect(t.clientText == "* OK [CAPABILITY IMAP4rev1] hi\r\n* CAPABILITY IMAP4rev1 IDLE\r\nc1 OK\r\n"
                + "c2 OK [CAPABILITY IMAP4rev1] in\r\n"
                + "c3 NO [CANNOT] Compression is not available through this gateway\r\nc4 OK\r\n")
    }

    @Test func localReplyWaitsForResponseBoundary() {
        var (session, t) = started()
        t.record(session.serverBytes(buf("* 1 FETCH (FLAGS (\\Seen) BODY[1] {4}\r\nab")))
        t.record(session.clientBytes(buf("c9 COMPRESS DEFLATE\r\n")))
        t.record(session.serverBytes(buf("cd)\r\n")))
        #expect(t.clientText == preamble + "* 1 FETCH (FLAGS (\\Seen) BODY[1] {4}\r\nabcd)\r\nc9 NO [CANNOT] Compression is not available through this gateway\r\n")
    }

    @Test func taggedResponsesRouted() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("a1 NOOP\r\na2 UID SEARCH ALL\r\na3 LOGOUT\r\n")))
        #expect(session.outstandingTags == ["a1", "a2", "a3"])
        t.record(session.serverBytes(buf("a2 OK search\r\n")))
        #expect(session.outstandingTags == ["a1", "a3"])
        t.record(session.serverBytes(buf("* BYE\r\na1 OK\r\na3 OK\r\n")))
        #expect(session.outstandingTags.isEmpty)
    }

    @Test func refusedSynchronizingLiteralResetsClientParser() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("a1 APPEND INBOX {999}\r\n")))
        t.record(session.serverBytes(buf("a1 NO [TOOBIG] too big\r\n")))
        t.record(session.clientBytes(buf("a2 NOOP\r\n")))
        #expect(session.outstandingTags == ["a2"])
        #expect(t.serverText == "s1 SELECT INBOX\r\na1 APPEND INBOX {999}\r\na2 NOOP\r\n")
    }

    @Test func refusedNonSynchronizingLiteralStillArrives() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("a1 APPEND INBOX {9+}\r\n")))
        t.record(session.serverBytes(buf("a1 NO [TOOBIG] too big\r\n")))
        t.record(session.clientBytes(buf("a2 NOOP\r\n\r\na3 NOOP\r\n")))  // 9 literal bytes, then the line end
        #expect(session.outstandingTags == ["a3"])
    }

    @Test func appendLiteralsStreamThrough() {
        let command = "a1 APPEND INBOX (\\Seen) {5+}\r\nHello\r\na2 APPEND INBOX ~{3}\r\n"
        for pieces in everySplit(Array(command.utf8), randomRuns: 16) {
            var (session, t) = started()
            for piece in pieces { t.record(session.clientBytes(buf(piece))) }
            t.record(session.serverBytes(buf("a1 OK\r\n+ go\r\n")))
            t.record(session.clientBytes(buf([0, 1, 2, 13, 10])))
            #expect(t.serverText == "s1 SELECT INBOX\r\n" + command + "\u{0}\u{1}\u{2}\r\n")
            #expect(session.outstandingTags == ["a2"])
        }
    }

    @Test func startTLSDiscardsInjectedBytes() {
        var session = IMAPRelaySession()
        var t = IMAPTranscript()
        t.record(session.serverBytes(buf("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n")))
        t.record(session.clientBytes(buf("t1 STARTTLS\r\nt2 LOGIN a b\r\n")))
        #expect(t.serverText == "t1 STARTTLS\r\n")
        t.record(session.clientBytes(buf("t3 X\r\n")))
        t.record(session.serverBytes(buf("t1 OK Begin TLS\r\n* OK injected\r\n")))
        #expect(t.clientText == "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\nt1 OK Begin TLS\r\n")
        #expect(t.others == [.injectionDiscarded(from: .client, byteCount: 14), .injectionDiscarded(from: .client, byteCount: 6),
                             .injectionDiscarded(from: .server, byteCount: 15), .startTLSPassthrough])
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x7B, 0x0D, 0x0A]
        #expect(session.clientBytes(buf(hello)) == [.sendToServer(buf(hello))])
        #expect(session.serverBytes(buf(hello)) == [.sendToClient(buf(hello))])
    }

    @Test func aSelectionUnansweredBeforeTLSDoesNotTakeEffectInside() {
        var session = IMAPRelaySession()
        var t = IMAPTranscript()
        t.record(session.serverBytes(buf("* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n")))
        t.record(session.clientBytes(buf("n NOOP\r\na SELECT Old\r\nt STARTTLS\r\n")))
        // A server that accepts STARTTLS without answering the commands before it.
        t.record(session.serverBytes(buf("t OK Begin TLS\r\n")))
        #expect(t.others == [.startTLSPassthrough])
        session.resumeAfterTLS()
        // Inside TLS a command reuses the tag of the unanswered SELECT: nothing of it counts.
        t.record(session.clientBytes(buf("a LOGIN u p\r\n")))
        t.record(session.serverBytes(buf("a OK\r\n")))
        t.record(session.clientBytes(buf("f FETCH 1 (UID BODY[])\r\n")))
        t.record(session.serverBytes(buf("* 1 FETCH (UID 5 BODY[] {\(message.utf8.count)}\r\n\(message))\r\nf OK\r\n")))
        #expect(t.checks.map(\.ref) == [IMAPMessageRef(sequence: 1, uid: 5)])
    }

    @Test func aCommandLineAServerReadsOtherwiseIsAnsweredNotRelayed() {
        // Fuzz/regressions/open/imap-session-idle-verb: `1 IDLE)e` is IDLE to the tokenizer, an
        // unknown verb to a server; relayed, the relay would take the next STARTTLS for IDLE data.
        var (session, t) = started()
        t.record(session.clientBytes(buf("1 IDLE)e\r\n\u{0B}b1 IDLE\r\n\"q\" NOOP\r\n2 STARTTLS\r\n")))
        #expect(!session.isIdling)
        #expect(t.serverText == "s1 SELECT INBOX\r\n2 STARTTLS\r\n")
        t.record(session.serverBytes(buf("2 OK Begin TLS\r\n")))
        let refusal = "* BAD Command line not understood by the gateway\r\n"
        #expect(t.clientText == preamble + refusal + refusal + refusal + "2 OK Begin TLS\r\n")
        #expect(t.others == [.startTLSPassthrough])
    }

    @Test func startTLSRefusedContinues() {
        var session = IMAPRelaySession()
        var t = IMAPTranscript()
        t.record(session.clientBytes(buf("t1 STARTTLS\r\n")))
        t.record(session.serverBytes(buf("t1 BAD no\r\n")))
        t.record(session.clientBytes(buf("t2 NOOP\r\n")))
        #expect(t.serverText == "t1 STARTTLS\r\nt2 NOOP\r\n")
        #expect(t.others.isEmpty)
    }

    @Test func serverCloseWithHeldFetch() {
        var (session, t) = started()
        t.record(session.serverBytes(buf("* 1 FETCH (BODY[] {2}\r\nhi)\r\n* BYE\r\n")))
        t.record(session.serverClosed())
        #expect(t.others.isEmpty)
        t.record(session.checkFinished(id: t.checks[0].id, verdict: .pass))
        #expect(t.clientText == preamble + "* 1 FETCH (BODY[] {2}\r\nhi)\r\n* BYE\r\n")
        #expect(t.others == [.close(.serverClosed)])
    }

    @Test func serverCloseMidLiteralSendsNothingOfIt() {
        var (session, t) = started()
        t.record(session.serverBytes(buf("* 1 FETCH (UID 3 BODY[] {20}\r\nhalf")))
        t.record(session.serverClosed())
        #expect(t.clientText == preamble + "* 1 FETCH (UID 3 BODY[] ")
        #expect(t.others == [.unchecked(.truncatedByServer, ref: IMAPMessageRef(sequence: 1, uid: 3, mailbox: "INBOX", uidValidity: 1234)),
                             .close(.serverClosed)])
    }

    @Test func overlongLinesClose() {
        var session = IMAPRelaySession(configuration: .init(maxClientLineLength: 16, maxServerLineLength: 16))
        #expect(session.clientBytes(buf(String(repeating: "a", count: 40))) == [.close(.clientLineTooLong(limit: 16))])
        var other = IMAPRelaySession(configuration: .init(maxServerLineLength: 16))
        #expect(other.serverBytes(buf(String(repeating: "*", count: 40))) == [.close(.serverLineTooLong(limit: 16))])
    }

    @Test func randomInputNeverCrashesAndStaysBounded() {
        var rng = SplitMix(seed: 4242)
        let alphabet = Array("* 1 FETCH (BODY[] {3} ~{2} {0+} \"q\\\" ) UID 7 a OK NO IDLE DONE STARTTLS COMPRESS\r\n".utf8) + [0, 0xFF]
        for _ in 0..<200 {
            var session = IMAPRelaySession(configuration: .init(maxLiteralSize: 256, maxClientLineLength: 256, maxServerLineLength: 256))
            var pendingChecks: [MailCheckID] = []
            for _ in 0..<40 {
                let length = Int.random(in: 0...64, using: &rng)
                let bytes = (0..<length).map { _ in alphabet.randomElement(using: &rng)! }
                let actions: [IMAPRelaySession.Action]
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: actions = session.clientBytes(buf(bytes))
                case 1: actions = session.serverBytes(buf(bytes))
                default:
                    actions = pendingChecks.isEmpty ? [] : session.checkFinished(id: pendingChecks.removeFirst(), verdict: .deliver([1, 2, 3]))
                }
                for case .checkMessage(let id, let m, _, _) in actions {
                    #expect(m.count <= 256)
                    pendingChecks.append(id)
                }
                #expect(session.bufferedBytes <= 64 * 40 + 4096)
            }
        }
    }
}
