// The IMAP relay's private fetch, IDLE and BlockUnchecked handling, state machine only: a small
// scripted IMAP server answers what the session sends it, checks are answered by content ("EVIL"
// is bad), and every scenario runs on every split of the client's and the server's streams.
import NIOCore
import Testing
@testable import Gate
import MailD

/// A mailbox of three messages and a server that answers FETCH, UID FETCH, NOOP, SELECT and IDLE
/// the way Dovecot does (UID first in UID FETCH responses, items in the order asked).
struct FakeIMAPServer {
    struct Message {
        var uid: UInt32
        var text: String
        var parts: [String]
        var seen = false
    }

    var messages: [Message] = [
        Message(uid: 5, text: "Subject: five\r\n\r\nhello five, all clean\r\n", parts: ["hello five", "clean part two"]),
        Message(uid: 7, text: "Subject: seven\r\n\r\nEVIL inside\r\n", parts: ["innocent text", "EVIL attachment"]),
        Message(uid: 9, text: "Subject: nine\r\n\r\nhello nine\r\n", parts: ["nine one", "nine two"]),
    ]
    /// Answer `NO` to the relay's own (moat.*) commands.
    var refusePrivate = false
    /// Untagged responses sent in front of the answer to a private command.
    var unsolicitedDuringPrivate = ""
    /// Every command line received, in order.
    var received: [String] = []
    private var input: [UInt8] = []
    private var idleTag: String?

    /// Takes bytes from the relay; returns the server's answers to the complete lines.
    mutating func receive(_ bytes: [UInt8]) -> [UInt8] {
        input += bytes
        var out = ""
        while let lf = input.firstIndex(of: 10) {
            let line = String(decoding: input[..<(lf - 1)], as: UTF8.self)
            input.removeFirst(lf + 1)
            received.append(line)
            out += answer(line)
        }
        return Array(out.utf8)
    }

    mutating func answer(_ line: String) -> String {
        if let idleTag {
            guard line.uppercased() == "DONE" else { return "" }
            self.idleTag = nil
            return "\(idleTag) OK Idle completed\r\n"
        }
        let words = line.split(separator: " ", maxSplits: 3).map(String.init)
        guard words.count >= 2 else { return "* BAD\r\n" }
        let tag = words[0]
        switch words[1].uppercased() {
        case "SELECT": return "* 3 EXISTS\r\n* OK [UIDVALIDITY 1234] UIDs valid\r\n\(tag) OK [READ-WRITE] done\r\n"
        case "NOOP": return "\(tag) OK NOOP done\r\n"
        case "IDLE":
            idleTag = tag
            return "+ idling\r\n"
        case "FETCH":
            return fetch(tag: tag, uid: false, rest: words.dropFirst(2).joined(separator: " "))
        case "UID":
            return fetch(tag: tag, uid: true, rest: words.dropFirst(3).joined(separator: " "))
        default: return "\(tag) BAD unknown\r\n"
        }
    }

    mutating func fetch(tag: String, uid: Bool, rest: String) -> String {
        let isPrivate = tag.hasPrefix("moat.")
        if isPrivate && refusePrivate { return "\(tag) NO [SERVERBUG] cannot fetch now\r\n" }
        let space = rest.firstIndex(of: " ")!
        let set = String(rest[..<space])
        var itemText = String(rest[rest.index(after: space)...])
        if itemText.hasPrefix("(") { itemText = String(itemText.dropFirst().dropLast()) }
        var items = itemText.split(separator: " ").map(String.init)
        if uid && !items.contains(where: { $0.uppercased() == "UID" }) { items.insert("UID", at: 0) }
        var out = isPrivate ? unsolicitedDuringPrivate : ""
        for (index, message) in messages.enumerated() {
            let seq = UInt32(index + 1)
            guard Self.contains(set, uid ? message.uid : seq, last: uid ? messages.last!.uid : UInt32(messages.count)) else { continue }
            var parts: [String] = []
            for item in items {
                let name = item.uppercased()
                let peek = name.contains(".PEEK")
                let section = name.replacingOccurrences(of: ".PEEK", with: "")
                switch section {
                case "UID": parts.append("UID \(message.uid)")
                case "FLAGS": parts.append("FLAGS (\(message.seen ? "\\Seen" : ""))")
                case "BODY[]": parts.append("BODY[] {\(message.text.utf8.count)}\r\n\(message.text)")
                case "BODY[1]", "BODY[2]":
                    let part = message.parts[section == "BODY[1]" ? 0 : 1]
                    parts.append("\(section) {\(part.utf8.count)}\r\n\(part)")
                case "BINARY[2]":
                    parts.append("BINARY[2] ~{\(message.parts[1].utf8.count)}\r\n\(message.parts[1])")
                case "BODY[]<0.10>":
                    parts.append("BODY[]<0> {10}\r\n\(message.text.prefix(10))")
                default: parts.append("\(section) NIL")
                }
                if section.hasPrefix("BODY[") || section.hasPrefix("BINARY[") { if !peek { messages[index].seen = true } }
            }
            out += "* \(seq) FETCH (\(parts.joined(separator: " ")))\r\n"
        }
        return out + "\(tag) OK Fetch completed\r\n"
    }

    static func contains(_ set: String, _ number: UInt32, last: UInt32) -> Bool {
        for part in set.split(separator: ",") {
            let ends = part.split(separator: ":").map { $0 == "*" ? last : UInt32($0)! }
            if number >= ends.min()! && number <= ends.max()! { return true }
        }
        return false
    }
}

/// Runs a session between a scripted client stream and the fake server, cutting both streams at
/// the given byte offsets; checks answered first or last.
struct PeekDriver {
    var session: IMAPRelaySession
    var server = FakeIMAPServer()
    var t = IMAPTranscript()
    var checkItems: [String] = []
    /// Server bytes delivered by the last `run`.
    var serverBytesDelivered = 0

    static let replacement = Array("Subject: replaced\r\n\r\nThe message was repacked.\r\n".utf8)

    init(configuration: IMAPRelaySession.Configuration = .init(), blockUnchecked: Bool = false,
         configure: (inout FakeIMAPServer) -> Void = { _ in }) {
        session = IMAPRelaySession(configuration: configuration)
        session.blockUnchecked = blockUnchecked
        configure(&server)
        t.record(session.serverBytes(buf("* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n")))
        _ = run(client: Array("s1 SELECT INBOX\r\n".utf8))
    }

    /// Feeds `client` (cut at `clientCuts`) and plays the server until nothing moves. Returns the
    /// bytes the client got during this run.
    mutating func run(client: [UInt8], clientCuts: Set<Int> = [], serverCuts: Set<Int> = [], checksFirst: Bool = false) -> String {
        let before = t.toClient.count
        var clientPosition = 0
        var serverQueue: [UInt8] = []
        var serverDelivered = 0
        var sentToServer = t.toServer.count
        var checks: [(MailCheckID, [UInt8])] = []
        while true {
            var actions: [IMAPRelaySession.Action] = []
            if checksFirst, !checks.isEmpty {
                let (id, message) = checks.removeFirst()
                actions = session.checkFinished(id: id, verdict: Self.verdict(message))
            } else if clientPosition < client.count {
                var end = clientPosition + 1
                while end < client.count && !clientCuts.contains(end) { end += 1 }
                actions = session.clientBytes(buf(Array(client[clientPosition..<end])))
                clientPosition = end
            } else if !serverQueue.isEmpty {
                var length = 1
                while length < serverQueue.count && !serverCuts.contains(serverDelivered + length) { length += 1 }
                actions = session.serverBytes(buf(Array(serverQueue.prefix(length))))
                serverQueue.removeFirst(length)
                serverDelivered += length
            } else if !checks.isEmpty {
                let (id, message) = checks.removeFirst()
                actions = session.checkFinished(id: id, verdict: Self.verdict(message))
            } else {
                serverBytesDelivered = serverDelivered
                break
            }
            for case .checkMessage(let id, let message, _, let item) in actions {
                checks.append((id, message))
                checkItems.append(item)
            }
            t.record(actions)
            if t.toServer.count > sentToServer {
                serverQueue += server.receive(Array(t.toServer[sentToServer...]))
                sentToServer = t.toServer.count
            }
        }
        return String(decoding: t.toClient[before...], as: UTF8.self)
    }

    static func verdict(_ message: [UInt8]) -> MailCheckVerdict {
        String(decoding: message, as: UTF8.self).contains("EVIL") ? .deliver(replacement) : .pass
    }
}

/// Cut sets for a stream of `length` bytes: none, every single cut, every byte, random runs.
func cutSets(_ length: Int, random: Int = 24, seed: UInt64 = 11) -> [Set<Int>] {
    var result: [Set<Int>] = [[]]
    if length > 1 { for cut in 1..<length { result.append([cut]) } }
    result.append(Set(1..<max(1, length)))
    var rng = SplitMix(seed: seed)
    for _ in 0..<random {
        result.append(Set((0..<(length / 4 + 1)).map { _ in Int.random(in: 1...max(1, length), using: &rng) }))
    }
    return result
}

@Suite struct IMAPPrivateFetchTests {
    /// Runs a scenario on every split of the client stream, then of the server stream (as long as
    /// it gets in the reference run), with checks answered last and first; all must equal the
    /// reference run.
    func onEverySplit(client: String, configuration: IMAPRelaySession.Configuration = .init(), blockUnchecked: Bool = false,
                      configure: @escaping (inout FakeIMAPServer) -> Void = { _ in },
                      _ verify: (String, PeekDriver) -> Void) {
        let bytes = Array(client.utf8)
        var reference = PeekDriver(configuration: configuration, blockUnchecked: blockUnchecked, configure: configure)
        let expected = reference.run(client: bytes)
        verify(expected, reference)
        let serverLength = reference.serverBytesDelivered
        for checksFirst in [false, true] {
            for cuts in cutSets(bytes.count) {
                var driver = PeekDriver(configuration: configuration, blockUnchecked: blockUnchecked, configure: configure)
                let got = driver.run(client: bytes, clientCuts: cuts, checksFirst: checksFirst)
                #expect(got == expected, "client cuts \(cuts.sorted()) checksFirst \(checksFirst)")
                #expect(driver.server.received == reference.server.received)
                #expect(driver.t.others == reference.t.others)
                if got != expected { return }
            }
            for cuts in cutSets(serverLength, random: 24, seed: 13) {
                var driver = PeekDriver(configuration: configuration, blockUnchecked: blockUnchecked, configure: configure)
                let got = driver.run(client: bytes, serverCuts: cuts, checksFirst: checksFirst)
                #expect(got == expected, "server cuts \(cuts.sorted()) checksFirst \(checksFirst)")
                #expect(driver.server.received == reference.server.received)
                #expect(driver.t.others == reference.t.others)
                if got != expected { return }
            }
        }
    }

    @Test func partialFetchOfAnUncheckedBadMessageComesBackEmpty() {
        onEverySplit(client: "c1 UID FETCH 7 (UID BODY.PEEK[2])\r\n") { got, driver in
            #expect(got == "* 2 FETCH (UID 7 BODY[2] {0}\r\n)\r\nc1 OK Fetch completed\r\n")
            #expect(driver.server.received == ["s1 SELECT INBOX", "moat.1 UID FETCH 7 (UID BODY.PEEK[])", "c1 UID FETCH 7 (UID BODY.PEEK[2])"])
            #expect(driver.checkItems == ["BODY[] (private)"])
            #expect(driver.t.others.isEmpty)
            #expect(driver.session.knownVerdict(IMAPMessageKey(mailbox: "INBOX", uidValidity: 1234, uid: 7)) == .bad)
            #expect(!driver.server.messages[1].seen, "the private fetch is a PEEK")
        }
    }

    @Test func partialFetchOfAnUncheckedCleanMessagePassesByteForByte() {
        onEverySplit(client: "c1 UID FETCH 5 (UID BODY.PEEK[2] BINARY.PEEK[2])\r\n") { got, driver in
            #expect(got == "* 1 FETCH (UID 5 BODY[2] {14}\r\nclean part two BINARY[2] ~{14}\r\nclean part two)\r\nc1 OK Fetch completed\r\n")
            #expect(driver.server.received.dropFirst().first == "moat.1 UID FETCH 5 (UID BODY.PEEK[])")
            #expect(driver.t.others.isEmpty, "checked: no unchecked report")
        }
    }

    /// A sequence-number FETCH gets a sequence-number private fetch; the client's response
    /// carries no UID: the mapping learnt from the private response names the message.
    @Test func pipelinedCommandsAroundTheprivateFetchKeepTheirOrder() {
        let client = "a1 NOOP\r\nc1 FETCH 2 (BODY.PEEK[2])\r\na2 UID FETCH 5 (BODY.PEEK[]<0.10>)\r\na3 NOOP\r\nc4 FETCH 2 BINARY.PEEK[2]\r\n"
        onEverySplit(client: client) { got, driver in
            #expect(got == "a1 OK NOOP done\r\n"
                + "* 2 FETCH (BODY[2] {0}\r\n)\r\nc1 OK Fetch completed\r\n"
                + "* 1 FETCH (UID 5 BODY[]<0> {10}\r\nSubject: f)\r\na2 OK Fetch completed\r\n"
                + "a3 OK NOOP done\r\n"
                + "* 2 FETCH (BINARY[2] ~{0}\r\n)\r\nc4 OK Fetch completed\r\n")
            #expect(driver.server.received == [
                "s1 SELECT INBOX", "a1 NOOP",
                "moat.1 FETCH 2 (UID BODY.PEEK[])", "c1 FETCH 2 (BODY.PEEK[2])",
                "moat.2 UID FETCH 5 (UID BODY.PEEK[])", "a2 UID FETCH 5 (BODY.PEEK[]<0.10>)", "a3 NOOP",
                // message 2 is known by then: no third private fetch
                "c4 FETCH 2 BINARY.PEEK[2]",
            ])
            #expect(driver.checkItems == ["BODY[] (private)", "BODY[] (private)"])
            #expect(driver.session.outstandingTags.isEmpty && !driver.session.isPeeking)
        }
    }

    /// Ranges are expanded (sequence `*` through EXISTS) and known messages left out.
    @Test func rangesAreNarrowedToTheUnknownMessages() {
        var driver = PeekDriver()
        _ = driver.run(client: Array("w1 UID FETCH 7 (BODY.PEEK[])\r\n".utf8))
        let got = driver.run(client: Array("c1 FETCH 1:* (UID BODY.PEEK[]<0.10>)\r\n".utf8))
        #expect(driver.server.received.suffix(2) == ["moat.1 FETCH 1,3 (UID BODY.PEEK[])", "c1 FETCH 1:* (UID BODY.PEEK[]<0.10>)"])
        #expect(got == "* 1 FETCH (UID 5 BODY[]<0> {10}\r\nSubject: f)\r\n* 2 FETCH (UID 7 BODY[]<0> {0}\r\n)\r\n"
                + "* 3 FETCH (UID 9 BODY[]<0> {10}\r\nSubject: n)\r\nc1 OK Fetch completed\r\n")
        // All known now: the same fetch goes straight through.
        let again = driver.run(client: Array("c2 FETCH 1:3 (UID BODY.PEEK[]<0.10>)\r\n".utf8))
        #expect(driver.server.received.last == "c2 FETCH 1:3 (UID BODY.PEEK[]<0.10>)")
        #expect(again == got.replacingOccurrences(of: "c1 OK", with: "c2 OK"))
    }

    /// The server says NO to the private fetch: the client's partial fetch still gets its answer,
    /// unchecked: relayed with BlockUnchecked = No, empty with Yes.
    @Test func refusedPrivateFetchLeavesTheMessageUncheckedAndBlockUncheckedDecides() {
        let ref = IMAPMessageRef(sequence: 2, uid: 7, mailbox: "INBOX", uidValidity: 1234)
        let command = "UID FETCH 7 (UID BODY.PEEK[])"
        onEverySplit(client: "c1 UID FETCH 7 (UID BODY.PEEK[2])\r\n", configure: { $0.refusePrivate = true }) { got, driver in
            #expect(got == "* 2 FETCH (UID 7 BODY[2] {15}\r\nEVIL attachment)\r\nc1 OK Fetch completed\r\n")
            #expect(driver.t.others == [.privateFetchRefused(command: command, status: "NO"),
                                        .unchecked(.partialFetch(item: "BODY[2]"), ref: ref)])
        }
        onEverySplit(client: "c1 UID FETCH 7 (UID BODY.PEEK[2])\r\n", blockUnchecked: true, configure: { $0.refusePrivate = true }) { got, driver in
            #expect(got == "* 2 FETCH (UID 7 BODY[2] {0}\r\n)\r\nc1 OK Fetch completed\r\n")
            #expect(driver.t.others == [.privateFetchRefused(command: command, status: "NO"),
                                        .withheld(.partialFetch(item: "BODY[2]"), ref: ref)])
        }
    }

    /// Untagged responses during the private command that are not its own reach the client.
    @Test func unsolicitedResponsesDuringThePrivateFetchAreRelayed() {
        let extra = "* 3 FETCH (FLAGS (\\Seen \\Answered))\r\n* 4 EXISTS\r\n* 1 RECENT\r\n"
        onEverySplit(client: "c1 UID FETCH 9 (BODY.PEEK[1])\r\n", configure: { $0.unsolicitedDuringPrivate = extra }) { got, _ in
            #expect(got == extra + "* 3 FETCH (UID 9 BODY[1] {8}\r\nnine one)\r\nc1 OK Fetch completed\r\n")
        }
    }

    /// A message too large to check in the private fetch is read and dropped, remembered as
    /// unchecked; BlockUnchecked decides its parts.
    @Test func tooLargeInThePrivateFetch() {
        let config = IMAPRelaySession.Configuration(maxLiteralSize: 20)
        onEverySplit(client: "c1 UID FETCH 7 (BODY.PEEK[1])\r\n", configuration: config) { got, driver in
            #expect(got == "* 2 FETCH (UID 7 BODY[1] {13}\r\ninnocent text)\r\nc1 OK Fetch completed\r\n")
            #expect(driver.checkItems.isEmpty)
            #expect(driver.session.knownVerdict(IMAPMessageKey(mailbox: "INBOX", uidValidity: 1234, uid: 7)) == .unchecked)
            #expect(driver.t.others == [.unchecked(.partialFetch(item: "BODY[1]"), ref: IMAPMessageRef(sequence: 2, uid: 7, mailbox: "INBOX", uidValidity: 1234))])
        }
        onEverySplit(client: "c1 UID FETCH 7 (BODY.PEEK[1])\r\n", configuration: config, blockUnchecked: true) { got, _ in
            #expect(got == "* 2 FETCH (UID 7 BODY[1] {0}\r\n)\r\nc1 OK Fetch completed\r\n")
        }
    }

    /// SELECT pipelined before the partial fetch: the plan waits for the selection.
    @Test func selectPipelinedInFront() {
        var driver = PeekDriver()
        let got = driver.run(client: Array("s2 SELECT INBOX\r\nc1 UID FETCH 7 (BODY.PEEK[2])\r\n".utf8))
        #expect(driver.server.received.suffix(3) == ["s2 SELECT INBOX", "moat.1 UID FETCH 7 (UID BODY.PEEK[])", "c1 UID FETCH 7 (BODY.PEEK[2])"])
        #expect(got.hasSuffix("s2 OK [READ-WRITE] done\r\n* 2 FETCH (UID 7 BODY[2] {0}\r\n)\r\nc1 OK Fetch completed\r\n"))
    }

    /// A SELECT pipelined behind the partial fetch takes effect only when the server gets to it:
    /// the fetch's reply is still judged in the mailbox it was sent for.
    @Test func selectPipelinedBehind() {
        onEverySplit(client: "c1 UID FETCH 7 (BODY.PEEK[2])\r\ns2 SELECT INBOX\r\nc3 FETCH 2 (BODY.PEEK[2])\r\n") { got, driver in
            #expect(got == "* 2 FETCH (UID 7 BODY[2] {0}\r\n)\r\nc1 OK Fetch completed\r\n"
                + "* 3 EXISTS\r\n* OK [UIDVALIDITY 1234] UIDs valid\r\ns2 OK [READ-WRITE] done\r\n"
                + "* 2 FETCH (BODY[2] {0}\r\n)\r\nc3 OK Fetch completed\r\n")
            // After the new selection the sequence mapping starts over: a private fetch again.
            #expect(driver.server.received == ["s1 SELECT INBOX", "moat.1 UID FETCH 7 (UID BODY.PEEK[])", "c1 UID FETCH 7 (BODY.PEEK[2])",
                                               "s2 SELECT INBOX", "moat.2 FETCH 2 (UID BODY.PEEK[])", "c3 FETCH 2 (BODY.PEEK[2])"])
        }
    }

    @Test func fetchCommandsThatNeedThePrivateFetch() {
        func request(_ s: String) -> IMAPPrivateFetch.Request? { IMAPPrivateFetch.Request(fetchCommand: Array(s.utf8)) }
        #expect(request("a UID FETCH 5 (UID BODY.PEEK[1])") == .init(uid: true, set: "5"))
        #expect(request("a fetch 1:* BODY[]<0.1024>") == .init(uid: false, set: "1:*"))
        #expect(request("a FETCH 2,4 (FLAGS BODY[TEXT])") == .init(uid: false, set: "2,4"))
        #expect(request("a UID FETCH 3 (BINARY.PEEK[2] RFC822.SIZE)") == .init(uid: true, set: "3"))
        #expect(request("a FETCH 3 RFC822.TEXT") == .init(uid: false, set: "3"))
        #expect(request("a FETCH 3 (UID BODY.PEEK[] FLAGS)") == nil, "whole message: checked as it is")
        #expect(request("a FETCH 3 (BODY.PEEK[HEADER.FIELDS (FROM TO)] BODY[1.MIME])") == nil, "headers only")
        #expect(request("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5)") == nil)
        #expect(request("a UID STORE 5 +FLAGS (\\Seen)") == nil)
        #expect(request("a FETCH 1-3 (BODY[1])") == nil, "not a sequence set")
        #expect(IMAPPrivateFetch.compress([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10")
    }

    @Test func verdictCacheIsBounded() {
        var session = IMAPRelaySession(configuration: .init(verdictCacheSize: 2))
        let keys = (1...3).map { IMAPMessageKey(mailbox: "INBOX", uidValidity: 1, uid: UInt32($0)) }
        keys.forEach { session.noteBlocked($0) }
        #expect(session.knownVerdict(keys[0]) == nil)
        #expect(session.knownVerdict(keys[1]) == .bad && session.knownVerdict(keys[2]) == .bad)
    }

    /// The client's bytes held behind a private fetch are bounded through `acceptsClientInput`.
    @Test func heldClientInputTellsTheCoreToStopReading() {
        var driver = PeekDriver(configuration: .init(maxHeldClientBytes: 64))
        driver.t.record(driver.session.clientBytes(buf("c1 UID FETCH 7 (BODY.PEEK[2])\r\n")))
        #expect(driver.session.isPeeking && driver.session.awaitsServerReply)
        driver.t.record(driver.session.clientBytes(buf(String(repeating: "x1 NOOP\r\n", count: 10))))
        #expect(!driver.session.acceptsClientInput)
    }
}

@Suite struct IMAPPrivateFetchPropertyTests {
    /// Random pipelined mixes of commands, random cuts of both streams, checks answered early or
    /// late, the private fetch refused or not: the client always gets one tagged reply per
    /// command in its order, never a line of the private fetch, and never the bad message's
    /// content (unless the server refused the private fetch and BlockUnchecked is off); the server
    /// gets the client's commands in the client's order.
    @Test func randomPipelinesKeepOrderAndNeverLeakBadContent() {
        let pool = ["NOOP", "UID FETCH 7 (BODY.PEEK[2])", "FETCH 2 (BODY.PEEK[2])", "FETCH 1:* (BODY.PEEK[]<0.10>)",
                    "UID FETCH 5,9 (BODY.PEEK[1])", "FETCH 2 BINARY.PEEK[2]", "UID FETCH 7 (BODY.PEEK[])", "FETCH 3 (FLAGS)",
                    "SELECT INBOX", "IDLE", "UID FETCH 1:9 (UID BODY.PEEK[1] BODY.PEEK[2])", "FETCH 2:3 (UID BODY[TEXT])"]
        var rng = SplitMix(seed: 99)
        for run in 0..<300 {
            let refuse = Bool.random(using: &rng)
            let block = Bool.random(using: &rng)
            var driver = PeekDriver(blockUnchecked: block) { $0.refusePrivate = refuse }
            var client = ""
            var lines: [String] = []
            var tags: [String] = []
            for index in 0..<Int.random(in: 1...8, using: &rng) {
                let command = pool.randomElement(using: &rng)!
                let tag = "t\(index)"
                tags.append(tag)
                lines.append("\(tag) \(command)")
                client += "\(tag) \(command)\r\n"
                if command == "IDLE" {
                    client += "DONE\r\n"
                    lines.append("DONE")
                }
            }
            let bytes = Array(client.utf8)
            let clientCuts = Set((0..<Int.random(in: 0...6, using: &rng)).map { _ in Int.random(in: 1...bytes.count, using: &rng) })
            let serverCuts = Set((0..<Int.random(in: 0...40, using: &rng)).map { _ in Int.random(in: 1...2000, using: &rng) })
            let got = driver.run(client: bytes, clientCuts: clientCuts, serverCuts: serverCuts, checksFirst: Bool.random(using: &rng))
            let tagged = got.split(separator: "\r\n").map(String.init).compactMap { line -> String? in
                let tag = line.split(separator: " ").first.map(String.init) ?? ""
                return tag.hasPrefix("t") && line.contains(" OK ") ? tag : nil
            }
            #expect(tagged == tags, "run \(run): \(client)\n\(got)")
            #expect(!got.contains("moat."), "run \(run)")
            if !(refuse && !block) {
                #expect(!got.contains("EVIL"), "run \(run) refuse \(refuse) block \(block): \(client)\n\(got)")
            }
            #expect(Array(driver.server.received.dropFirst().filter { !$0.hasPrefix("moat.") }) == lines, "run \(run)")
            #expect(!driver.session.isPeeking && driver.session.outstandingTags.isEmpty, "run \(run)")
            if got.contains("EVIL") && (!refuse || block) || tagged != tags { return }
        }
    }
}

@Suite struct IMAPIdleTests {
    let greeting = "* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n"

    func selected() -> (IMAPRelaySession, IMAPTranscript) {
        var session = IMAPRelaySession()
        var t = IMAPTranscript()
        t.record(session.serverBytes(buf(greeting)))
        t.record(session.clientBytes(buf("s1 SELECT INBOX\r\n")))
        t.record(session.serverBytes(buf("* 3 EXISTS\r\n* OK [UIDVALIDITY 1234] ok\r\ns1 OK done\r\n")))
        return (session, t)
    }

    /// DONE ends the idle at once: the reply clock runs again, and a command pipelined behind
    /// DONE is a command (its literal framed, its tag tracked).
    @Test func doneEndsTheIdleAndTheNextBytesAreCommands() {
        let stream = "i1 IDLE\r\nDONE\r\na2 APPEND INBOX {3+}\r\nabc\r\na3 NOOP\r\n"
        for pieces in everySplit(Array(stream.utf8), randomRuns: 16) {
            var (session, t) = selected()
            for piece in pieces {
                t.record(session.clientBytes(buf(piece)))
                if session.isIdling {
                    #expect(!session.awaitsServerReply, "no reply timeout while idling")
                }
            }
            #expect(!session.isIdling && session.awaitsServerReply)
            #expect(session.outstandingTags == ["i1", "a2", "a3"])
            #expect(t.serverText == "s1 SELECT INBOX\r\n" + stream)
            t.record(session.serverBytes(buf("+ idling\r\ni1 OK Idle completed\r\na2 OK\r\na3 OK\r\n")))
            #expect(session.outstandingTags.isEmpty && !session.awaitsServerReply)
        }
    }

    /// While the client idles, the server's untagged FETCH with a whole message is held and
    /// checked; EXISTS passes; after DONE a partial fetch of the new message gets a private fetch.
    @Test func contentArrivingDuringIdleIsScanned() {
        let message = "Subject: new\r\n\r\nEVIL new mail\r\n"
        let pushed = "* 4 EXISTS\r\n* 4 FETCH (UID 11 FLAGS () BODY[] {\(message.utf8.count)}\r\n\(message))\r\n"
        for pieces in everySplit(Array(pushed.utf8), randomRuns: 16) {
            var (session, t) = selected()
            t.record(session.clientBytes(buf("i1 IDLE\r\n")))
            t.record(session.serverBytes(buf("+ idling\r\n")))
            for piece in pieces { t.record(session.serverBytes(buf(piece))) }
            #expect(session.isIdling)
            #expect(t.checks.count == 1)
            guard let check = t.checks.first else { continue }
            #expect(check.ref == IMAPMessageRef(sequence: 4, uid: 11, mailbox: "INBOX", uidValidity: 1234))
            t.record(session.checkFinished(id: check.id, verdict: .deliver(Array("notice".utf8))))
            #expect(t.clientText.hasSuffix("+ idling\r\n* 4 EXISTS\r\n* 4 FETCH (UID 11 FLAGS () BODY[] {6}\r\nnotice)\r\n"))
            t.record(session.clientBytes(buf("DONE\r\nc1 FETCH 4 (BODY.PEEK[1])\r\n")))
            t.record(session.serverBytes(buf("i1 OK Idle completed\r\n")))
            // Known bad from the check during IDLE: straight through, part delivered empty.
            #expect(t.serverText.hasSuffix("DONE\r\nc1 FETCH 4 (BODY.PEEK[1])\r\n"))
            t.record(session.serverBytes(buf("* 4 FETCH (BODY[1] {4}\r\nEVIL)\r\nc1 OK\r\n")))
            #expect(t.clientText.hasSuffix("i1 OK Idle completed\r\n* 4 FETCH (BODY[1] {0}\r\n)\r\nc1 OK\r\n"))
        }
    }
}

@Suite struct UncheckedTooLargeTests {
    let header = "From: Alice <alice@example.com>\r\nSubject: big one\r\n\r\n"

    /// IMAP, BlockUnchecked = Yes: a whole message over the limit is read and dropped, only its
    /// head kept; the notice the core builds takes its place with the right literal length.
    @Test func imapWholeMessageOverTheLimitIsReplacedByTheNotice() throws {
        let body = String(repeating: "0123456789abcdef", count: 64)
        let message = header + body
        for binary in [false, true] {
            let marker = binary ? "~{\(message.utf8.count)}" : "{\(message.utf8.count)}"
            let item = binary ? "BINARY[]" : "BODY[]"
            let response = "* 1 FETCH (UID 3 \(item) \(marker)\r\n\(message) FLAGS ())\r\n* 2 EXISTS\r\nf1 OK done\r\n"
            for pieces in everySplit(Array(response.utf8), randomRuns: 8) {
                var session = IMAPRelaySession(configuration: .init(maxLiteralSize: 256, noticeHeadSize: 40))
                session.blockUnchecked = true
                var t = IMAPTranscript()
                t.record(session.clientBytes(buf("f1 FETCH 1 (UID \(item))\r\n")))
                var most = 0
                for piece in pieces {
                    t.record(session.serverBytes(buf(piece)))
                    most = max(most, session.bufferedBytes)
                }
                #expect(most <= 40 + 256, "never more than the head and a line held: \(most)")
                #expect(t.clientText == "* 1 FETCH (UID 3 \(item) ")
                var replace: (MailCheckID, [UInt8])?
                for case .replaceUnchecked(let id, let head, let reason, let ref) in t.others {
                    replace = (id, head)
                    #expect(reason == .tooLarge(limit: 256))
                    #expect(ref.uid == 3)
                }
                let (id, head) = try #require(replace)
                #expect(head == Array(message.utf8.prefix(40)))
                let notice = MailboxReplacement.notice(for: head, reason: "The message is larger than the gateway can check")
                t.record(session.checkFinished(id: id, verdict: .deliver(notice)))
                let noticeText = String(decoding: notice, as: UTF8.self)
                #expect(noticeText.hasPrefix("From: Alice <alice@example.com>\r\n"))
                #expect(t.clientText == "* 1 FETCH (UID 3 \(item) \(binary ? "~" : ""){\(notice.count)}\r\n\(noticeText) FLAGS ())\r\n* 2 EXISTS\r\nf1 OK done\r\n")
            }
        }
    }

    /// POP3, BlockUnchecked = Yes: the RETR body over the limit is dropped past its head; the
    /// client gets the server's status line and the notice, dot-stuffed and terminated.
    @Test func pop3MessageOverTheLimitIsReplacedByTheNotice() throws {
        let body = header + ".starts with a dot\r\n" + String(repeating: "line of the big message\r\n", count: 40)
        let stuffed = String(decoding: POP3DotStuffing.stuff(Array(body.utf8)), as: UTF8.self)
        let stream = "+OK ready\r\n+OK \(body.utf8.count) octets\r\n" + stuffed + "+OK 2 messages\r\n"
        for pieces in everySplit(Array(stream.utf8), randomRuns: 8) {
            var session = POP3RelaySession(configuration: .init(maxMessageSize: 200, noticeHeadSize: 60))
            session.blockUnchecked = true
            var t = POP3Transcript()
            t.record(session.clientBytes(buf("RETR 1\r\nSTAT\r\n")))
            var most = 0
            for piece in pieces {
                t.record(session.serverBytes(buf(piece)))
                most = max(most, session.bufferedBytes)
            }
            #expect(most <= 200 + 64, "bounded by MaxMessageSize: \(most)")
            #expect(t.toClient == "+OK ready\r\n")
            #expect(t.checks.isEmpty)
            var replace: (MailCheckID, [UInt8])?
            for case .replaceUnchecked(let id, let head, let reason, let command) in t.others {
                replace = (id, head)
                #expect(reason == .tooLarge(limit: 200) && command == .retr("1"))
            }
            let (id, head) = try #require(replace)
            #expect(head == POP3DotStuffing.unstuff(Array(stuffed.utf8.prefix(60))), "the unstuffed head")
            #expect(String(decoding: head, as: UTF8.self).hasPrefix(header + ".st"))
            let notice = MailboxReplacement.notice(for: head, reason: "too large")
            t.record(session.checkFinished(id: id, verdict: .deliver(notice)))
            #expect(t.toClient == "+OK ready\r\n+OK \(body.utf8.count) octets\r\n"
                    + String(decoding: POP3DotStuffing.stuff(notice), as: UTF8.self) + "+OK 2 messages\r\n")
        }
    }

    /// BlockUnchecked = No: relayed as it comes, reported unchecked (unchanged behaviour).
    @Test func pop3MessageOverTheLimitStreamsWhenNotBlocked() {
        var session = POP3RelaySession(configuration: .init(maxMessageSize: 50))
        var t = POP3Transcript()
        let stuffed = String(decoding: POP3DotStuffing.stuff(Array((header + String(repeating: "x", count: 100) + "\r\n").utf8)), as: UTF8.self)
        t.record(session.serverBytes(buf("+OK ready\r\n")))
        t.record(session.clientBytes(buf("RETR 1\r\n")))
        t.record(session.serverBytes(buf("+OK\r\n" + stuffed)))
        #expect(t.toClient == "+OK ready\r\n+OK\r\n" + stuffed)
        #expect(t.others == [.unchecked(.tooLarge(limit: 50), command: .retr("1"))])
    }
}
