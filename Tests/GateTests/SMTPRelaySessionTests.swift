import NIOCore
import Testing
@testable import Gate

/// Collects what a session asks for, as text, so a test reads like the dialogue.
struct Transcript {
    var session = SMTPRelaySession()
    var toServer = ""
    var toClient = ""
    var body = ""
    var checks: [MessageCheckRequest] = []
    var sendMessages = 0
    var blind = false
    var closed = false
    var unrecognized: String?
    var dropped = false

    mutating func take(_ actions: [RelayAction]) {
        for action in actions {
            switch action {
            case .sendToServer(let b): toServer += String(buffer: b)
            case .sendToClient(let b): toClient += String(buffer: b)
            case .storeBody(let b): body += String(buffer: b)
            case .dropBody: dropped = true; body = ""
            case .checkMessage(let r): checks.append(r)
            case .sendMessage: sendMessages += 1
            case .startTLS: blind = true
            case .close: closed = true
            case .unrecognizedProtocol(let b): unrecognized = String(buffer: b)
            case .checkHeld, .replaceUnchecked, .log: break
            }
        }
    }

    /// Feeds text from the client, line by line as the decoder would cut it.
    mutating func client(_ text: String) {
        for line in Self.lines(text) { take(session.clientLine(line)) }
    }

    mutating func server(_ text: String) {
        for line in Self.lines(text) { take(session.serverLine(line)) }
    }

    mutating func outputs() -> (server: String, client: String) {
        defer { toServer = ""; toClient = "" }
        return (toServer, toClient)
    }

    static func lines(_ text: String) -> [MailLine] {
        var buffer = ByteBuffer(string: text)
        var decoder = MailLineDecoder()
        var out: [MailLine] = []
        while let line = try! decoder.decode(buffer: &buffer) { out.append(line) }
        if let last = try! decoder.decodeLast(buffer: &buffer, seenEOF: true) { out.append(last) }
        return out
    }

    /// Greeting and EHLO done.
    static func ready(_ configuration: SMTPRelaySession.Configuration = .init()) -> Transcript {
        var t = Transcript()
        t.session = SMTPRelaySession(configuration: configuration)
        t.server("220 mx.example.org ESMTP\r\n")
        t.client("EHLO client.example.com\r\n")
        t.server("250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
        _ = t.outputs()
        return t
    }
}

@Suite struct SMTPRelaySessionTests {
    @Test func greetingAndCommandsAreRelayedInOrder() {
        var t = Transcript()
        t.client("EHLO early\r\n") // an early talker waits for the greeting
        #expect(t.outputs() == ("", ""))
        t.server("220 mx.example.org ESMTP Postfix\r\n")
        #expect(t.outputs() == ("EHLO early\r\n", "220 mx.example.org ESMTP Postfix\r\n"))
        t.server("250-mx.example.org\r\n250 PIPELINING\r\n")
        #expect(t.outputs().client == "250-mx.example.org\r\n250 PIPELINING\r\n")
        t.client("NOOP\r\n")
        t.server("250 2.0.0 Ok\r\n")
        #expect(t.outputs() == ("NOOP\r\n", "250 2.0.0 Ok\r\n"))
    }

    @Test func ehloKeepsWhatMoatHonoursAndRemovesTheRest() {
        var t = Transcript()
        t.server("220 mx ESMTP\r\n")
        t.client("EHLO me\r\n")
        _ = t.outputs()
        t.server("""
            250-mx.example.org\r
            250-PIPELINING\r
            250-SIZE 10240000\r
            250-AUTH PLAIN LOGIN\r
            250-STARTTLS\r
            250-ENHANCEDSTATUSCODES\r
            250-8BITMIME\r
            250-DSN\r
            250-SMTPUTF8\r
            250-XCLIENT NAME ADDR\r
            250-BINARYMIME\r
            250 CHUNKING\r

            """)
        #expect(t.outputs().client == """
            250-mx.example.org\r
            250-PIPELINING\r
            250-SIZE 10240000\r
            250-AUTH PLAIN LOGIN\r
            250-STARTTLS\r
            250-ENHANCEDSTATUSCODES\r
            250-8BITMIME\r
            250-DSN\r
            250 SMTPUTF8\r

            """)
    }

    @Test func multilineRepliesArriveWhole() {
        var t = Transcript.ready()
        t.client("HELP\r\n")
        t.server("214-line one\r\n")
        #expect(t.outputs().client == "")
        t.server("214 line two\r\n")
        #expect(t.outputs().client == "214-line one\r\n214 line two\r\n")
    }

    @Test func pipelinedTransactionIsHeldThenCheckedThenDelivered() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@example.com> SIZE=100\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\n")
        // MAIL and RCPTs go at once; DATA waits for their replies.
        #expect(t.outputs() == ("MAIL FROM:<a@example.com> SIZE=100\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<nobody@example.org>\r\n", ""))
        t.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@example.org>: unknown\r\n")
        #expect(t.outputs() == ("", "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@example.org>: unknown\r\n354 End data with <CR><LF>.<CR><LF>\r\n"))
        t.client("Subject: hi\r\n\r\n..leading dot\r\n.\r\n")
        #expect(t.body == "Subject: hi\r\n\r\n.leading dot\r\n")
        #expect(t.checks == [MessageCheckRequest(source: .smtp, sender: "a@example.com", recipients: ["b@example.org"],
                                                 helo: "client.example.com")])
        #expect(t.outputs() == ("", ""))
        t.take(t.session.checkCompleted(.deliver(size: 30)))
        #expect(t.outputs() == ("DATA\r\n", ""))
        t.server("354 go ahead\r\n")
        #expect(t.sendMessages == 1)
        #expect(t.outputs() == ("", "")) // the client hears nothing until the server accepted
        t.server("250 2.0.0 Ok: queued as 1234\r\n")
        #expect(t.outputs() == ("", "250 2.0.0 Ok: queued as 1234\r\n"))
    }

    @Test func rejectGivesTheRuleTextAndResetsUpstream() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client("body\r\n.\r\nQUIT\r\n")
        _ = t.outputs()
        t.take(t.session.checkCompleted(.reject("Virus found: Moat.Test.EICAR")))
        // The refusal, RSET upstream (its reply swallowed), then the held QUIT goes on.
        #expect(t.outputs() == ("RSET\r\nQUIT\r\n", "550 5.7.1 Virus found: Moat.Test.EICAR\r\n"))
        t.server("250 2.0.0 Ok\r\n221 2.0.0 Bye\r\n")
        #expect(t.outputs().client == "221 2.0.0 Bye\r\n")
        #expect(t.closed)
    }

    @Test func tempfailAndDiscard() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client("x\r\n.\r\n")
        _ = t.outputs()
        t.take(t.session.checkCompleted(.tempfail("try\r\nlater")))
        #expect(t.outputs().client == "451 4.7.1 try  later\r\n")
        t.server("250 reset\r\n")
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client("x\r\n.\r\n")
        _ = t.outputs()
        t.take(t.session.checkCompleted(.discard))
        #expect(t.outputs() == ("RSET\r\n", "250 2.0.0 Ok: message discarded by the content policy\r\n"))
    }

    @Test func serverRefusingOurDataIsTheFinalReply() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client("x\r\n.\r\n")
        t.take(t.session.checkCompleted(.deliver(size: 3)))
        _ = t.outputs()
        t.server("451 4.3.0 queue file write error\r\n")
        #expect(t.outputs() == ("RSET\r\n", "451 4.3.0 queue file write error\r\n"))
        #expect(t.sendMessages == 0)
    }

    @Test func dataWithoutRecipientsIsAnsweredLikePostfix() {
        var t = Transcript.ready()
        t.client("DATA\r\n")
        #expect(t.outputs().client == "503 5.5.1 Error: need MAIL command\r\n")
        t.client("MAIL FROM:<a@x>\r\nDATA\r\n")
        t.server("250 ok\r\n")
        #expect(t.outputs().client == "250 ok\r\n503 5.5.1 Error: need RCPT command\r\n")
        t.client("RCPT TO:<bad@y>\r\nDATA\r\n")
        t.server("550 no\r\n")
        #expect(t.outputs().client == "550 no\r\n554 5.5.1 Error: no valid recipients\r\n")
    }

    @Test func multipleMessagesAndRset() {
        var t = Transcript.ready()
        for n in 1...3 {
            t.client("MAIL FROM:<a\(n)@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
            t.server("250 ok\r\n250 ok\r\n")
            t.client("message \(n)\r\n.\r\n")
            t.take(t.session.checkCompleted(.deliver(size: 10)))
            t.server("354 go\r\n250 queued \(n)\r\n")
            #expect(t.outputs().client.hasSuffix("250 queued \(n)\r\n"))
            t.client("RSET\r\n")
            t.server("250 reset\r\n")
            #expect(t.outputs() == ("RSET\r\n", "250 reset\r\n"))
        }
        #expect(t.checks.map(\.sender) == ["a1@x", "a2@x", "a3@x"])
        #expect(t.body == "message 1\r\nmessage 2\r\nmessage 3\r\n")
    }

    @Test func dotStuffingIsUndoneForTheCheck() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client("..\r\n...x\r\n. \r\nmid.dle\r\n.\r\n")
        #expect(t.body == ".\r\n..x\r\n \r\nmid.dle\r\n")
        #expect(t.checks.count == 1)
    }

    @Test func aDotInsideALongLineIsNotTheEnd() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        // A line longer than the decoder's limit comes in pieces; a piece starting with "."
        // in the middle of a line is content.
        t.take(t.session.clientLine(MailLine("aaaa", isComplete: false)))
        t.take(t.session.clientLine(MailLine(".\r\n")))
        #expect(t.checks.isEmpty)
        #expect(t.body == "aaaa.\r\n")
        t.client(".\r\n")
        #expect(t.checks.count == 1)
    }

    @Test func bdatIsRefusedAndItsChunkSkipped() {
        var t = Transcript.ready()
        t.client("BDAT 13 LAST\r\nRCPT TO:<x>\r\nNOOP\r\n")
        #expect(t.outputs() == ("NOOP\r\n", "502 5.5.1 Error: BDAT is not supported here (CHUNKING is not offered)\r\n"))
    }

    @Test func bdatChunkNeverReachesTheServerAsCommands() {
        var t = Transcript.ready()
        t.client("BDAT 18\r\nMAIL FROM:<evil>\r\nNOOP\r\n")
        let out = t.outputs()
        #expect(!out.server.contains("MAIL"))
        #expect(out.server == "NOOP\r\n")
        #expect(out.client.hasPrefix("502 5.5.1"))
    }

    @Test func xclientFromTheClientIsRefused() {
        var t = Transcript.ready()
        t.client("XCLIENT ADDR=1.2.3.4\r\n")
        #expect(t.outputs() == ("", "502 5.5.1 Error: command not available through this gateway\r\n"))
    }

    @Test func localAnswersKeepTheirTurnInAPipeline() {
        var t = Transcript.ready()
        t.client("NOOP\r\nXCLIENT ADDR=1.2.3.4\r\nNOOP\r\n")
        #expect(t.outputs() == ("NOOP\r\nNOOP\r\n", ""))
        t.server("250 first\r\n")
        #expect(t.outputs().client == "250 first\r\n502 5.5.1 Error: command not available through this gateway\r\n")
        t.server("250 second\r\n")
        #expect(t.outputs().client == "250 second\r\n")
    }

    @Test func startTLSDiscardsInjectedCommandsThenGoesBlind() {
        var t = Transcript.ready()
        // CVE-2011-0411: plaintext pipelined after STARTTLS must not reach the TLS session.
        t.client("STARTTLS\r\nMAIL FROM:<injected@evil>\r\n")
        #expect(t.outputs() == ("STARTTLS\r\n", ""))
        t.client("RCPT TO:<more@evil>\r\n")
        #expect(t.outputs() == ("", ""))
        t.server("220 2.0.0 Ready to start TLS\r\n")
        #expect(t.outputs() == ("", "220 2.0.0 Ready to start TLS\r\n"))
        #expect(t.blind)
        // From here the relay carries TLS (unwrapped or raw); nothing reaches the session's
        // dialogue until `tlsEstablished()`.
        t.take(t.session.clientLine(MailLine("\u{16}\u{03}\u{01}hello", isComplete: false)))
        #expect(t.outputs() == ("", ""))
    }

    @Test func startTLSRefusedKeepsRelaying() {
        var t = Transcript.ready()
        t.client("STARTTLS\r\n")
        t.server("454 4.7.0 TLS not available\r\n")
        #expect(t.outputs() == ("STARTTLS\r\n", "454 4.7.0 TLS not available\r\n"))
        #expect(!t.blind)
        t.client("NOOP\r\n")
        #expect(t.outputs().server == "NOOP\r\n")
    }

    @Test func authContinuationsAreNotCommands() {
        var t = Transcript.ready()
        t.client("AUTH LOGIN\r\n")
        t.server("334 VXNlcm5hbWU6\r\n")
        t.client("DATA\r\n") // base64 that happens to read as a verb
        #expect(t.outputs() == ("AUTH LOGIN\r\nDATA\r\n", "334 VXNlcm5hbWU6\r\n"))
        t.server("235 2.7.0 Authentication successful\r\n")
        #expect(t.outputs().client == "235 2.7.0 Authentication successful\r\n")
    }

    @Test func keepAliveWhileCheckingIsSwallowed() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client("x\r\n.\r\n")
        _ = t.outputs()
        #expect(t.session.needsKeepAlive)
        t.take(t.session.keepAlive())
        #expect(!t.session.needsKeepAlive)
        #expect(t.outputs() == ("NOOP\r\n", ""))
        t.take(t.session.checkCompleted(.deliver(size: 3)))
        t.server("250 2.0.0 Ok\r\n")
        #expect(t.outputs() == ("DATA\r\n", ""))
        t.server("354 go\r\n250 2.0.0 queued\r\n")
        #expect(t.outputs().client == "250 2.0.0 queued\r\n")
    }

    @Test func commandsPipelinedAfterTheDotWaitForTheVerdict() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        _ = t.outputs()
        t.client("x\r\n.\r\nMAIL FROM:<c@x>\r\n")
        #expect(t.outputs().server == "")
        t.take(t.session.checkCompleted(.deliver(size: 3)))
        t.server("354 go\r\n")
        #expect(t.outputs().server == "DATA\r\n")
        t.server("250 queued\r\n")
        #expect(t.outputs() == ("MAIL FROM:<c@x>\r\n", "250 queued\r\n"))
    }

    @Test func upstreamLossGivesTheClientA421() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\n")
        t.take(t.session.serverClosed(connected: true))
        #expect(t.outputs().client == "421 4.4.2 The connection to the mail server was lost, try again later\r\n")
        #expect(t.closed)
        var u = Transcript()
        u.take(u.session.serverClosed(connected: false))
        #expect(u.outputs().client.hasPrefix("421 4.4.1"))
    }

    @Test func timeouts() {
        var t = Transcript.ready()
        #expect(t.session.awaitsClient)
        t.client("NOOP\r\n")
        #expect(t.session.awaitsServer)
        t.take(t.session.serverTimedOut())
        #expect(t.outputs().client.hasPrefix("421 4.4.2"))
        #expect(t.closed)
    }

    @Test func aServerThatIsNotSMTPIsRecognised() {
        var t = Transcript()
        t.server("SSH-2.0-OpenSSH_9.2\r\n")
        #expect(t.unrecognized == "SSH-2.0-OpenSSH_9.2\r\n")
        var u = Transcript()
        u.server("HTTP/1.1 400 Bad Request\r\n")
        #expect(u.unrecognized != nil)
    }

    @Test func unsolicited421ClosesTheSession() {
        var t = Transcript.ready()
        t.server("421 4.4.2 mx Error: timeout exceeded\r\n")
        #expect(t.outputs().client == "421 4.4.2 mx Error: timeout exceeded\r\n")
        #expect(t.closed)
    }

    @Test func heldInputStopsReading() {
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client("x\r\n.\r\n")
        for _ in 0..<100 { t.client("NOOP\r\n") }
        #expect(!t.session.wantsClientInput)
        t.take(t.session.checkCompleted(.reject("no")))
        #expect(t.session.wantsClientInput)
    }
}
