import NIOCore
import Testing
@testable import Gate

/// The ways around the scan that an SMTP client (or a server) could take through the Gate's
/// relay session, each as the dialogue an attacker would send.
@Suite struct SMTPBypassTests {
    /// MAIL and RCPT accepted upstream: the next command decides where the body goes.
    static func transaction() -> Transcript {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\n")
        t.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n")
        _ = t.outputs()
        return t
    }

    /// Postfix and Exim skip leading blanks, end the verb at any white space and ignore case:
    /// each of these is DATA to them, so the Gate takes the message itself and checks it.
    @Test(arguments: [" DATA", "DATA\t", "  Data ", "data", "\tDATA", "DATA \t ", "\u{0B}DATA", "DATA\u{0C}"])
    func everySpellingOfDataIsTheGatesOwnData(_ spelling: String) {
        var t = Self.transaction()
        t.client(spelling + "\r\n")
        #expect(t.outputs() == ("", "354 End data with <CR><LF>.<CR><LF>\r\n"))
        t.client("Subject: x\r\n\r\n" + GateFixtures.eicar + "\r\n.\r\n")
        // Held for the check: not one byte of it went to the server.
        #expect(t.checks.count == 1)
        #expect(t.outputs() == ("", ""))
        #expect(t.body.contains("EICAR"))
    }

    @Test(arguments: [" BDAT 10 LAST", "bdat 10 last", "BDAT\t10\tLAST"])
    func everySpellingOfBdatIsRefusedAndItsChunkSkipped(_ spelling: String) {
        var t = Self.transaction()
        t.client(spelling + "\r\n0123456789NOOP\r\n")
        let out = t.outputs()
        #expect(out.client == "502 5.5.1 Error: BDAT is not supported here (CHUNKING is not offered)\r\n")
        #expect(out.server == "NOOP\r\n")
    }

    @Test(arguments: ["BDAT 99999999999999999999 LAST", "BDAT -5 LAST", "BDAT +5", "BDAT 0x10", "BDAT"])
    func aBdatSizeThatCannotBeFollowedClosesTheSession(_ command: String) {
        var t = Self.transaction()
        t.client(command + "\r\nMAIL FROM:<evil@x>\r\n")
        let out = t.outputs()
        #expect(out.server == "")
        #expect(out.client.hasPrefix("501 5.5.4 Syntax: BDAT"))
        #expect(t.closed)
    }

    @Test func aBdatLargerThanTheLimitIsNotReadThrough() {
        var configuration = SMTPRelaySession.Configuration()
        configuration.maxMessageSize = 1000
        var t = Transcript.ready(configuration)
        t.client("BDAT 1001 LAST\r\n")
        #expect(t.outputs().client.hasPrefix("552 5.3.4"))
        #expect(t.closed)
    }

    /// Only verbs the Gate knows reach the server: anything else could be a verb the server
    /// takes for DATA (or a future one that carries content).
    @Test(arguments: ["FOO", "X-DATA", "DATAX", "TURN", "ATRN", "XEXPS", "ONEX", "VERB"])
    func unknownCommandsGetTheGatesOwn502(_ verb: String) {
        var t = Self.transaction()
        t.client(verb + " arg\r\n")
        #expect(t.outputs() == ("", "502 5.5.2 Error: command not recognized\r\n"))
    }

    /// What the server reads is what the Gate parsed: the verb in upper case, one space,
    /// the argument without the client's surrounding blanks, CRLF.
    @Test func commandsGoUpstreamRebuilt() {
        var t = Transcript.ready()
        t.client("  mail\tfrom:<a@x.example>  \n")
        #expect(t.outputs().server == "MAIL from:<a@x.example>\r\n")
        t.server("250 ok\r\n")
        t.client("rcpt to:<b@y.example>\r\n")
        #expect(t.outputs().server == "RCPT to:<b@y.example>\r\n")
    }

    @Test(arguments: ["NOOP\0DATA", "NOOP\rDATA", "MAIL FROM:<a@x>\0"])
    func nulAndBareCRInACommandAreRefused(_ line: String) {
        var t = Transcript.ready()
        t.client(line + "\r\n")
        #expect(t.outputs() == ("", "500 5.5.2 Error: bad syntax (NUL or bare CR in a command)\r\n"))
    }

    @Test func anOverLongCommandIsRefusedWholeNotCut() {
        var t = Transcript.ready()
        t.client("NOOP " + String(repeating: "x", count: 2044) + "\r\n")
        #expect(t.outputs() == ("", "500 5.5.2 Error: line too long\r\n"))
        // 2048 octets with CRLF is still a command.
        t.client("NOOP " + String(repeating: "x", count: 2041) + "\r\n")
        #expect(t.outputs().server.hasPrefix("NOOP xxx"))
    }

    /// A 354 to anything but the Gate's own DATA: the server thinks it is receiving a message
    /// the Gate did not check. Both sides are closed; the client's next lines go nowhere.
    @Test(arguments: ["354 go ahead", "334 VXNlcm5hbWU6", "301 moved"])
    func anIntermediateReplyNobodyAskedForClosesBothSides(_ reply: String) {
        var t = Self.transaction()
        t.client("NOOP\r\n")
        _ = t.outputs()
        t.server(reply + "\r\n")
        let out = t.outputs()
        #expect(out.client == "421 4.3.0 The mail server asked for data nobody offered; closing\r\n")
        #expect(t.closed)
        t.client(GateFixtures.eicar + "\r\n.\r\n")
        #expect(t.outputs() == ("", ""))
    }

    @Test func aReplyNobodyAskedForClosesBothSides() {
        var t = Transcript.ready()
        t.server("250 2.0.0 surprise\r\n")
        #expect(t.outputs().client == "421 4.3.0 The mail server sent a reply nobody asked for; closing\r\n")
        #expect(t.closed)
    }

    /// RFC 2920: DATA ends a group; bytes sent before the 354 would be commands to a server
    /// that refuses DATA and data to one that takes it.
    @Test func bodyPipelinedBehindDataClosesTheSession() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\nMAIL FROM:<evil@x>\r\n")
        let out = t.outputs()
        #expect(out.server == "MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\n")
        #expect(out.client.hasPrefix("554 5.5.0 Error: SMTP protocol synchronization"))
        #expect(t.closed)
    }

    @Test func sizeOverTheLimitIsRefusedAtMail() {
        var configuration = SMTPRelaySession.Configuration()
        configuration.maxMessageSize = 1000
        var t = Transcript.ready(configuration)
        t.client("MAIL FROM:<a@x> SIZE=1001\r\n")
        #expect(t.outputs() == ("", "552 5.3.4 Message size exceeds fixed limit\r\n"))
        t.client("MAIL FROM:<a@x> SIZE=99999999999999999999999\r\n")
        #expect(t.outputs() == ("", "552 5.3.4 Message size exceeds fixed limit\r\n"))
        t.client("MAIL FROM:<a@x> SIZE=1000\r\n")
        #expect(t.outputs().server == "MAIL FROM:<a@x> SIZE=1000\r\n")
    }

    @Test func ehloSizeIsTheLowerLimit() {
        var configuration = SMTPRelaySession.Configuration()
        configuration.maxMessageSize = 1000
        var t = Transcript()
        t.session = SMTPRelaySession(configuration: configuration)
        t.server("220 mx\r\n")
        t.client("EHLO c\r\n")
        t.server("250-mx\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n")
        #expect(t.outputs().client == "220 mx\r\n250-mx\r\n250-SIZE 1000\r\n250 8BITMIME\r\n")
    }

    /// A message past MaxMessageSize: stored no further, read to its end, refused with 552,
    /// the server's transaction reset; nothing was sent to the server.
    @Test func aMessagePastTheLimitIsDroppedAndRefused() {
        var configuration = SMTPRelaySession.Configuration()
        configuration.maxMessageSize = 100
        var t = Transcript.ready(configuration)
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        _ = t.outputs()
        for _ in 0..<50 { t.client(String(repeating: "y", count: 60) + "\r\n") }
        #expect(t.dropped)
        t.client(".\r\n")
        #expect(t.checks.isEmpty)
        #expect(t.outputs() == ("RSET\r\n", "552 5.3.4 Error: message file too big\r\n"))
    }

    // MARK: - SMTP smuggling: only CRLF.CRLF ends the message; bare line ends become CRLF

    static func smuggled(_ separator: String) -> Transcript {
        var t = Self.transaction()
        t.client("DATA\r\n")
        _ = t.outputs()
        t.client("Subject: one\r\n\r\nfirst" + separator
                 + "MAIL FROM:<ceo@victim.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n"
                 + "Subject: two\r\n\r\n" + GateFixtures.eicar + "\r\n.\r\n")
        return t
    }

    @Test(arguments: ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r"])
    func smugglingEndsAreContentAndEveryLineEndIsCRLF(_ separator: String) {
        let t = Self.smuggled(separator)
        // One message, checked whole, the "second" one inside it; no command went upstream.
        #expect(t.checks.count == 1)
        #expect(t.toServer == "")
        #expect(t.body.contains("MAIL FROM:<ceo@victim.example>\r\n"))
        #expect(t.body.contains(GateFixtures.eicar))
        // What is stored (and scanned, and later sent) has no bare CR or LF left.
        let bytes = Array(t.body.utf8)
        for (i, byte) in bytes.enumerated() {
            if byte == 10 { #expect(i > 0 && bytes[i - 1] == 13) }
            if byte == 13 { #expect(i + 1 < bytes.count && bytes[i + 1] == 10) }
        }
    }

    /// Whatever the stored message holds, the bytes sent upstream end only once, at the end.
    @Test(arguments: ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n", "\r\n.\r"])
    func whatGoesUpstreamEndsOnlyAtItsEnd(_ separator: String) {
        let t = Self.smuggled(separator)
        let wire = Array(DotStuffer.stuffed(Array(t.body.utf8)).readableBytesView)
        // Any reader, lenient or strict, finds no end of data before the real one.
        for end in ["\r\n.\r\n", "\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n"].map({ Array($0.utf8) }) {
            let first = (0...(wire.count - end.count)).first { wire[$0..<($0 + end.count)].elementsEqual(end) }
            #expect(first == nil || first! + end.count == wire.count, "\(end) inside the message")
        }
    }

    @Test func dotStuffingIsUndoneOnlyWhereTheClientStuffed() {
        var t = Self.transaction()
        t.client("DATA\r\n")
        t.client("..a\r\nb\r.c\r\n.\n.\r\n.\r\n")
        // "..a" unstuffed; ".c" after a bare CR was not at a line start for the client; a lone
        // "." ended by a bare LF is content, and so is the "." after it (no CRLF before it).
        #expect(t.body == ".a\r\nb\r\n.c\r\n.\r\n.\r\n")
        #expect(t.checks.count == 1)
    }

    @Test func aLineCutIntoPiecesKeepsItsCRLF() {
        var t = Self.transaction()
        t.client("DATA\r\n")
        t.take(t.session.clientLine(MailLine(ByteBuffer(string: "abc\r"), isComplete: false)))
        t.take(t.session.clientLine(MailLine(ByteBuffer(string: "\n"))))
        t.take(t.session.clientLine(MailLine(ByteBuffer(string: "x\r"), isComplete: false)))
        t.take(t.session.clientLine(MailLine(ByteBuffer(string: "y\r\n"))))
        t.client(".\r\n")
        #expect(t.body == "abc\r\nx\r\ny\r\n")
        #expect(t.checks.count == 1)
    }

    // MARK: - STARTTLS, server to client (CVE-2011-0411's other half)

    @Test func serverBytesThatCameWithThe220NeverReachTheClient() {
        var t = Transcript.ready()
        t.client("STARTTLS\r\n")
        _ = t.outputs()
        t.server("220 2.0.0 Ready to start TLS\r\n250-injected\r\n250 OK\r\n")
        #expect(t.outputs() == ("", "220 2.0.0 Ready to start TLS\r\n"))
        t.session.tlsEstablished()
        // Inside TLS the session starts over: the client greets again.
        t.client("EHLO c\r\n")
        #expect(t.outputs().server == "EHLO c\r\n")
    }

    /// ALPACA: a browser's request on a mail port is neither relayed nor echoed; the session ends.
    @Test(arguments: ["GET / HTTP/1.1", "POST /login HTTP/1.1", "Host: mail.example.org"])
    func anHTTPRequestClosesTheSession(_ line: String) {
        var t = Transcript.ready()
        t.client(line + "\r\nCookie: secret\r\n")
        let out = t.outputs()
        #expect(out.server == "")
        #expect(out.client == "421 4.7.0 Error: this is an SMTP server, not HTTP; closing\r\n")
        #expect(!out.client.contains("secret") && t.closed)
    }

    /// Like Postfix's smtpd_hard_error_limit: a client that keeps sending what is not SMTP is cut off.
    @Test func tooManyRefusedCommandsClose() {
        var t = Transcript.ready()
        for _ in 0..<20 { t.client("XYZZY\r\n") }
        #expect(!t.closed)
        t.client("XYZZY\r\n")
        #expect(t.closed)
        #expect(t.outputs().client.hasSuffix("421 4.7.0 Error: too many errors; closing\r\n"))
    }

    /// Fuzz finding (smtp-session, quit-reopen): QUIT's 221 closed the session, then a DATA
    /// pipelined behind QUIT reopened it and a held line went to the server after the close.
    @Test func nothingPipelinedBehindQuitIsAnsweredOrRelayed() {
        var t = Transcript()
        t.client("QUIT\nDATA\n\n")
        t.server("220 mx\r\n")
        #expect(t.outputs() == ("QUIT\r\n", "220 mx\r\n"))
        t.server("221 2.0.0 Bye\r\n")
        #expect(t.outputs() == ("", "221 2.0.0 Bye\r\n"))
        #expect(t.closed)
        t.client("NOOP\r\n")
        #expect(t.outputs() == ("", ""))
    }

    @Test func aBadAuthResponseCancelsTheExchange() {
        var t = Transcript.ready()
        t.client("AUTH LOGIN\r\n")
        t.server("334 VXNlcm5hbWU6\r\n")
        _ = t.outputs()
        t.client("dXNlcg==\0DATA\r\n")
        #expect(t.outputs().server == "*\r\n")
        t.server("501 5.7.0 Authentication aborted\r\n")
        #expect(t.outputs().client == "501 5.7.0 Authentication aborted\r\n")
    }
}
