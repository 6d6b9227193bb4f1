import NIOCore
import Testing
@testable import Gate

/// What a POP3 session did, flattened for comparisons.
struct POP3Transcript: Equatable {
    var toServer = ""
    var toClient = ""
    var checks: [(MailCheckID, [UInt8], POP3RelaySession.MessageCommand)] = []
    var others: [POP3RelaySession.Action] = []

    static func == (a: POP3Transcript, b: POP3Transcript) -> Bool {
        a.toServer == b.toServer && a.toClient == b.toClient && a.others == b.others
            && a.checks.map { "\($0.0)\($0.1)\($0.2)" } == b.checks.map { "\($0.0)\($0.1)\($0.2)" }
    }

    mutating func record(_ actions: [POP3RelaySession.Action]) {
        for action in actions {
            switch action {
            case .sendToServer(let b): toServer += String(buffer: b)
            case .sendToClient(let b): toClient += String(buffer: b)
            case .checkMessage(let id, let m, let c): checks.append((id, m, c))
            default: others.append(action)
            }
        }
    }
}

@Suite struct POP3DotStuffingTests {
    @Test func unstuffRemovesOneLeadingDot() {
        let body = Array("Line\r\n..leading dot\r\n...two\r\n.\r\nplain.dot\r\n".utf8)
        #expect(String(decoding: POP3DotStuffing.unstuff(body), as: UTF8.self)
                == "Line\r\n.leading dot\r\n..two\r\n\r\nplain.dot\r\n")
    }

    @Test func stuffRoundTripsAndTerminates() {
        let message = Array("Subject: x\r\n\r\n.hidden\r\n..two\r\n.\r\nend\r\n".utf8)
        let stuffed = POP3DotStuffing.stuff(message)
        #expect(String(decoding: stuffed, as: UTF8.self)
                == "Subject: x\r\n\r\n..hidden\r\n...two\r\n..\r\nend\r\n.\r\n")
        #expect(POP3DotStuffing.unstuff(stuffed.dropLast(3)) == message)
    }

    @Test func stuffNormalisesLineEndings() {
        #expect(String(decoding: POP3DotStuffing.stuff(Array("a\n.b".utf8)), as: UTF8.self) == "a\r\n..b\r\n.\r\n")
        #expect(String(decoding: POP3DotStuffing.stuff([]), as: UTF8.self) == ".\r\n")
    }
}

@Suite struct POP3CodecTests {
    /// Feeds `pieces`, asking for multi-line replies per `multiLine` (one flag per reply), and
    /// returns the events with adjacent body chunks merged.
    func frame(_ pieces: [[UInt8]], multiLine: [Bool]) throws -> [String] {
        var framer = POP3ResponseFramer(maxStatusLineLength: 200)
        var events: [String] = []
        var reply = 0
        for piece in pieces {
            framer.append(buf(piece))
            while let event = try framer.next(multiLineIfOK: reply < multiLine.count ? multiLine[reply] : false) {
                switch event {
                case .statusLine(let line, let kind):
                    events.append("S\(kind):" + String(buffer: line))
                    if !framer.isInBody { reply += 1 }
                case .bodyBytes(let b):
                    if let last = events.last, last.hasPrefix("B:") {
                        events[events.count - 1] = last + String(buffer: b)
                    } else {
                        events.append("B:" + String(buffer: b))
                    }
                case .bodyEnd(let t):
                    events.append("E:" + String(buffer: t))
                    reply += 1
                }
            }
        }
        return events
    }

    @Test func responseFramerOnEverySplit() throws {
        let stream = "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n"
            + "+OK Capability list follows\r\nTOP\r\nUIDL\r\nPIPELINING\r\n.\r\n"
            + "+OK 2 200\r\n"
            + "+OK 120 octets\r\nSubject: x\r\n\r\n..leading\r\n..\r\n.\r\n"
            + "-ERR no such message\r\n"
            + "+OK\r\n.\r\n"
            + "+OK bare lf\n..x\n.\n"
        let flags = [false, true, false, true, true, true, true]
        let expected = try frame([Array(stream.utf8)], multiLine: flags)
        #expect(expected == [
            "Sok:+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n",
            "Sok:+OK Capability list follows\r\n", "B:TOP\r\nUIDL\r\nPIPELINING\r\n", "E:.\r\n",
            "Sok:+OK 2 200\r\n",
            "Sok:+OK 120 octets\r\n", "B:Subject: x\r\n\r\n..leading\r\n..\r\n", "E:.\r\n",
            "Serr:-ERR no such message\r\n",
            "Sok:+OK\r\n", "E:.\r\n",
            "Sok:+OK bare lf\n", "B:..x\n", "E:.\n",
        ])
        for pieces in everySplit(Array(stream.utf8)) {
            #expect(try frame(pieces, multiLine: flags) == expected)
        }
    }

    @Test func statusLineLimit() {
        var framer = POP3ResponseFramer(maxStatusLineLength: 16)
        framer.append(buf(String(repeating: "x", count: 40)))
        #expect(throws: POP3DecodeError.lineTooLong(limit: 16)) { try framer.next(multiLineIfOK: false) }
    }

    @Test func lineDecoderOnEverySplit() throws {
        let input = "USER alice\r\nPASS secret\r\nRETR 1\nQUIT\r\n"
        for pieces in everySplit(Array(input.utf8)) {
            var decoder = POP3LineDecoder(maxLineLength: 64)
            var lines: [String] = []
            for piece in pieces {
                decoder.append(buf(piece))
                while let line = try decoder.next() { lines.append(String(decoding: line, as: UTF8.self)) }
            }
            #expect(lines == ["USER alice\r\n", "PASS secret\r\n", "RETR 1\n", "QUIT\r\n"])
        }
        let command = POP3Command(line: Array("top 3  10\r\n".utf8))
        #expect(command.keyword == "TOP" && command.arguments == ["3", "10"])
    }
}

@Suite struct POP3RelaySessionTests {
    let greeting = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"
    let message = "From: a@example.org\r\nSubject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n"
    var stuffedMessage: String {
        String(decoding: POP3DotStuffing.stuff(Array(message.utf8)), as: UTF8.self)
    }

    func started(_ configuration: POP3RelaySession.Configuration = .init()) -> (POP3RelaySession, POP3Transcript) {
        var session = POP3RelaySession(configuration: configuration)
        var t = POP3Transcript()
        t.record(session.serverBytes(buf(greeting)))
        return (session, t)
    }

    @Test func greetingAndCapaPassUntouched() {
        var (session, t) = started()
        #expect(t.toClient == greeting)
        t.record(session.clientBytes(buf("CAPA\r\n")))
        let capa = "+OK Capability list follows\r\nTOP\r\nUIDL\r\nSASL PLAIN\r\nPIPELINING\r\nSTLS\r\n.\r\n"
        t.record(session.serverBytes(buf(capa)))
        #expect(t.toServer == "CAPA\r\n")
        #expect(t.toClient == greeting + capa)
        #expect(t.checks.isEmpty && t.others.isEmpty)
        #expect(session.outstandingCommands == 0)
    }

    @Test func retrIsHeldUnstuffedAndPassedUnchanged() throws {
        var (session, t) = started()
        t.record(session.clientBytes(buf("RETR 1\r\n")))
        let reply = "+OK 120 octets\r\n" + stuffedMessage
        t.record(session.serverBytes(buf(reply)))
        #expect(t.toClient == greeting)  // held
        let check = try #require(t.checks.first)
        #expect(String(decoding: check.1, as: UTF8.self) == message)
        #expect(check.2 == .retr("1"))
        t.record(session.checkFinished(id: check.0, verdict: .pass))
        #expect(t.toClient == greeting + reply)
    }

    @Test func retrReplacedIsStuffedWithServerStatusLine() throws {
        var (session, t) = started()
        t.record(session.clientBytes(buf("RETR 1\r\n")))
        t.record(session.serverBytes(buf("+OK 120 octets\r\n" + stuffedMessage)))
        let replacement = "Subject: repacked\r\n\r\n.dot line\r\nbody"
        t.record(session.checkFinished(id: t.checks[0].0, verdict: .deliver(Array(replacement.utf8))))
        #expect(t.toClient == greeting + "+OK 120 octets\r\nSubject: repacked\r\n\r\n..dot line\r\nbody\r\n.\r\n")
        // unknown or repeated verdicts are ignored
        #expect(session.checkFinished(id: t.checks[0].0, verdict: .pass).isEmpty)
    }

    @Test func sessionOnEverySplitOfServerStream() throws {
        let serverStream = greeting + "+OK\r\n" + "+OK 99 octets\r\n" + stuffedMessage + "-ERR no such message\r\n"
            + "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n"
        var expectedClient: String?
        for pieces in everySplit(Array(serverStream.utf8), randomRuns: 32) {
            var session = POP3RelaySession()
            var t = POP3Transcript()
            t.record(session.clientBytes(buf("NOOP\r\nRETR 1\r\nRETR 9\r\nLIST\r\n")))
            for piece in pieces { t.record(session.serverBytes(buf(piece))) }
            #expect(t.checks.count == 1)
            #expect(t.checks.first.map { String(decoding: $0.1, as: UTF8.self) } == message)
            if let id = t.checks.first?.0 { t.record(session.checkFinished(id: id, verdict: .pass)) }
            #expect(t.toClient == serverStream)
            if expectedClient == nil { expectedClient = t.toClient }
            #expect(session.outstandingCommands == 0)
        }
    }

    @Test func pipelinedCommandsKeepOrderWhileHeld() throws {
        var (session, t) = started()
        t.record(session.clientBytes(buf("CAPA\r\nRETR 1\r\nUIDL\r\nRETR 2\r\nQUIT\r\n")))
        #expect(t.toServer == "CAPA\r\nRETR 1\r\nUIDL\r\nRETR 2\r\nQUIT\r\n")
        let capa = "+OK\r\nPIPELINING\r\n.\r\n"
        let uidl = "+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"
        let retr1 = "+OK 10 octets\r\nSubject: one\r\n\r\nhi\r\n.\r\n"
        let retr2 = "+OK 10 octets\r\nSubject: two\r\n\r\n..x\r\n.\r\n"
        t.record(session.serverBytes(buf(capa + retr1 + uidl + retr2 + "+OK bye\r\n")))
        #expect(t.toClient == greeting + capa)
        #expect(t.checks.count == 2)
        // second verdict first: nothing moves, order is kept
        t.record(session.checkFinished(id: t.checks[1].0, verdict: .deliver(Array("Subject: clean\r\n\r\n.\r\n".utf8))))
        #expect(t.toClient == greeting + capa)
        t.record(session.checkFinished(id: t.checks[0].0, verdict: .pass))
        #expect(t.toClient == greeting + capa + retr1 + uidl + "+OK 10 octets\r\nSubject: clean\r\n\r\n..\r\n.\r\n" + "+OK bye\r\n")
    }

    @Test func stlsDiscardsInjectedBytesAndPassesThrough() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("STLS\r\nUSER evil\r\n")))
        #expect(t.toServer == "STLS\r\n")
        #expect(t.others == [.injectionDiscarded(from: .client, byteCount: 11)])
        t.others.removeAll()
        t.record(session.clientBytes(buf("PASS x\r\n")))
        #expect(t.toServer == "STLS\r\n")
        #expect(t.others == [.injectionDiscarded(from: .client, byteCount: 8)])
        t.others.removeAll()
        t.record(session.serverBytes(buf("+OK Begin TLS negotiation\r\n-ERR injected\r\n")))
        #expect(t.toClient == greeting + "+OK Begin TLS negotiation\r\n")
        #expect(t.others == [.injectionDiscarded(from: .server, byteCount: 15), .startTLSPassthrough])
        // after the upgrade: opaque bytes both ways
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 0x0A, 0x0D, 0x2E, 0x0D, 0x0A]
        #expect(session.clientBytes(buf(hello)) == [.sendToServer(buf(hello))])
        #expect(session.serverBytes(buf(hello)) == [.sendToClient(buf(hello))])
    }

    @Test func stlsRefusedContinues() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("STLS\r\n")))
        t.record(session.serverBytes(buf("-ERR not now\r\n")))
        t.record(session.clientBytes(buf("USER a\r\n")))
        #expect(t.toServer == "STLS\r\nUSER a\r\n")
        #expect(t.toClient == greeting + "-ERR not now\r\n")
        #expect(t.others.isEmpty)
    }

    @Test func authExchangeLinesAreNotCommands() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("AUTH PLAIN\r\n")))
        t.record(session.serverBytes(buf("+ \r\n")))
        t.record(session.clientBytes(buf("RETR 1\r\n")))  // a SASL response that looks like a command
        t.record(session.serverBytes(buf("+OK logged in\r\n")))
        t.record(session.clientBytes(buf("STAT\r\n")))
        t.record(session.serverBytes(buf("+OK 1 20\r\n")))
        #expect(t.toClient == greeting + "+ \r\n+OK logged in\r\n+OK 1 20\r\n")
        #expect(t.checks.isEmpty)
        #expect(session.outstandingCommands == 0)
    }

    @Test func topFollowsScanSetting() {
        let reply = "+OK\r\nSubject: t\r\n\r\n..x\r\n.\r\n"
        // Header only (TOP n 0): relayed unscanned unless ScanPop3Top.
        var (off, t1) = started()
        t1.record(off.clientBytes(buf("TOP 1 0\r\n")))
        t1.record(off.serverBytes(buf("+OK\r\nSubject: t\r\n\r\n.\r\n")))
        #expect(t1.toClient == greeting + "+OK\r\nSubject: t\r\n\r\n.\r\n")
        #expect(t1.others == [.unchecked(.topNotScanned, command: .top("1", lines: "0"))])
        // With body lines, TOP is RETR by another name: held and scanned whatever the setting.
        var (off2, t3) = started()
        t3.record(off2.clientBytes(buf("TOP 1 5\r\n")))
        t3.record(off2.serverBytes(buf(reply)))
        #expect(t3.toClient == greeting)
        #expect(t3.checks.map(\.2) == [.top("1", lines: "5")])

        var (on, t2) = started(.init(scanTop: true))
        t2.record(on.clientBytes(buf("TOP 1 5\r\n")))
        t2.record(on.serverBytes(buf(reply)))
        #expect(t2.toClient == greeting)
        #expect(t2.checks.map(\.2) == [.top("1", lines: "5")])
    }

    @Test func tooLargeMessageStreamsUnchecked() {
        var (session, t) = started(.init(maxMessageSize: 40))
        t.record(session.clientBytes(buf("RETR 1\r\n")))
        let reply = "+OK\r\n" + String(repeating: "0123456789\r\n", count: 10) + ".\r\n"
        let bytes = Array(reply.utf8)
        t.record(session.serverBytes(buf(Array(bytes[0..<30]))))
        t.record(session.serverBytes(buf(Array(bytes[30...]))))
        #expect(t.toClient == greeting + reply)
        #expect(t.checks.isEmpty)
        #expect(t.others == [.unchecked(.tooLarge(limit: 40), command: .retr("1"))])
    }

    @Test func serverCloseMidMessageDropsIt() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("RETR 1\r\n")))
        t.record(session.serverBytes(buf("+OK\r\nSubject: partial\r\n")))
        t.record(session.serverClosed())
        #expect(t.toClient == greeting)
        #expect(t.others == [.unchecked(.truncatedByServer, command: .retr("1")), .close(.serverClosed)])
    }

    @Test func serverCloseWaitsForPendingVerdict() {
        var (session, t) = started()
        t.record(session.clientBytes(buf("RETR 1\r\nQUIT\r\n")))
        t.record(session.serverBytes(buf("+OK\r\nx\r\n.\r\n+OK bye\r\n")))
        t.record(session.serverClosed())
        #expect(t.others.isEmpty)
        t.record(session.checkFinished(id: t.checks[0].0, verdict: .pass))
        #expect(t.toClient == greeting + "+OK\r\nx\r\n.\r\n+OK bye\r\n")
        #expect(t.others == [.close(.serverClosed)])
    }

    @Test func overlongLinesClose() {
        var (session, t) = started(.init(maxCommandLineLength: 32))
        t.record(session.clientBytes(buf(String(repeating: "A", count: 100))))
        #expect(t.others == [.close(.clientLineTooLong(limit: 32))])
        var (other, t2) = started(.init(maxStatusLineLength: 32))
        t2.record(other.serverBytes(buf(String(repeating: "+", count: 100))))
        #expect(t2.others == [.close(.serverLineTooLong(limit: 32))])
    }

    @Test func randomInputNeverCrashesAndStaysBounded() {
        var rng = SplitMix(seed: 42)
        let alphabet = Array("+OK-ERR .\r\n\r\nRETR TOP LIST CAPA STLS AUTH 1 ".utf8) + [0, 0xFF]
        for _ in 0..<200 {
            var session = POP3RelaySession(configuration: .init(scanTop: true, maxMessageSize: 512,
                                                                maxCommandLineLength: 128, maxStatusLineLength: 128))
            var pendingChecks: [MailCheckID] = []
            for _ in 0..<40 {
                let length = Int.random(in: 0...64, using: &rng)
                let bytes = (0..<length).map { _ in alphabet.randomElement(using: &rng)! }
                let actions: [POP3RelaySession.Action]
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: actions = session.clientBytes(buf(bytes))
                case 1: actions = session.serverBytes(buf(bytes))
                default:
                    actions = pendingChecks.isEmpty ? [] : session.checkFinished(id: pendingChecks.removeFirst(), verdict: .pass)
                }
                for case .checkMessage(let id, let m, _) in actions {
                    #expect(m.count <= 512)
                    pendingChecks.append(id)
                }
                #expect(session.bufferedBytes <= 512 * 40 + 4096)
            }
        }
    }
}
