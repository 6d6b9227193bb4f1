import Foundation
import MailD
import NIOCore
import Testing
@testable import MilterInterface

/// The session state machine, event by event, without a socket.
@Suite("Milter session")
struct SessionTests {
    typealias S = Support

    static func session(blockUnchecked: Bool = false, maxSize: Int = 1 << 20, spool: String = "/tmp/moat-milter-test-spool",
                        spoolThreshold: Int = 16 << 20) -> MilterSession {
        let profile = S.profile(blockUnchecked: blockUnchecked, spoolThreshold: spoolThreshold)
        return MilterSession(configuration: .init(maxMessageSize: maxSize, spoolDirectory: spool, profile: { profile }))
    }

    static let postfixV6 = MilterCommand.optionNegotiation(version: 6, actions: Milter.Actions(rawValue: 0x1FF),
                                                           steps: Milter.Steps(rawValue: 0x1FFFFF))

    func replies(_ action: MilterSession.Action) -> [MilterReply]? {
        if case .reply(let r) = action { return r }
        return nil
    }

    func isNone(_ action: MilterSession.Action) -> Bool {
        if case .none = action { return true }
        return false
    }

    /// Postfix 3.7 milter_protocol = 6: all steps offered; Moat asks for only what it uses.
    @Test func negotiatesVersion6WithPostfix() {
        var s = Self.session()
        let r = replies(s.receive(Self.postfixV6))
        #expect(r == [.optionNegotiation(version: 6, actions: [.addHeaders, .changeBody, .changeHeaders],
                                         steps: MilterSession.wantedSteps)])
        #expect(MilterSession.wantedSteps.rawValue == 0x1FF3C0)
        #expect(s.negotiated?.steps.contains(.noReplyBody) == true)
    }

    /// milter_protocol = 2: only the v2 steps (0x7F) exist; no NR_* bits, so every event gets a reply.
    @Test func negotiatesVersion2AndAnswersEveryEvent() {
        var s = Self.session()
        let r = replies(s.receive(.optionNegotiation(version: 2, actions: Milter.Actions(rawValue: 0x1FF), steps: Milter.Steps(rawValue: 0x7F))))
        #expect(r == [.optionNegotiation(version: 2, actions: [.addHeaders, .changeBody, .changeHeaders], steps: [.noEndOfHeaders])])
        #expect(isNone(s.receive(.macros(stage: UInt8(ascii: "C"), [("j", "mx")]))))
        #expect(replies(s.receive(.connect(hostname: "h", family: UInt8(ascii: "4"), port: 1, address: "192.0.2.1"))) == [.continue])
        #expect(replies(s.receive(.helo("h"))) == [.continue])
        #expect(replies(s.receive(.mail(sender: "<a@b>", arguments: []))) == [.continue])
        #expect(replies(s.receive(.recipient("<c@d>", arguments: []))) == [.continue])
        #expect(replies(s.receive(.header(name: "Subject", value: "x"))) == [.continue])
        #expect(replies(s.receive(.endOfHeaders)) == [.continue])
        #expect(replies(s.receive(.body(S.buffer("hello\r\n")))) == [.continue])
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        guard case .bytes(let bytes) = request.message else { Issue.record("not in memory"); return }
        #expect(String(decoding: bytes, as: UTF8.self) == "Subject: x\r\n\r\nhello\r\n")
    }

    /// Versions 3 and 4 (Postfix milter_protocol = 3/4) answer with their own version.
    @Test(arguments: [(UInt32(3), UInt32(0x17F)), (4, 0x37F), (7, 0x1FFFFF)])
    func negotiatesOtherVersions(version: UInt32, steps: UInt32) {
        var s = Self.session()
        guard case .optionNegotiation(let agreed, _, let got)? = replies(s.receive(.optionNegotiation(
            version: version, actions: Milter.Actions(rawValue: 0x1FF), steps: Milter.Steps(rawValue: steps))))?.first else {
            Issue.record("no negotiation reply"); return
        }
        #expect(agreed == min(version, 6))
        #expect(got.isSubset(of: Milter.Steps(rawValue: steps)))
    }

    /// Sendmail 8.14+ with MDS bits: the reply stays a subset of the offer (Sendmail insists).
    @Test func negotiatesWithSendmailOffer() {
        var s = Self.session()
        let offer = Milter.Steps(rawValue: 0x1FFFFF | 0x1000_0000)
        guard case .optionNegotiation(6, let actions, let steps)? = replies(s.receive(.optionNegotiation(
            version: 6, actions: Milter.Actions(rawValue: 0x1FF), steps: offer)))?.first else { Issue.record("no reply"); return }
        #expect(steps.isSubset(of: offer))
        #expect(actions.isSubset(of: Milter.Actions(rawValue: 0x1FF)))
    }

    /// An MTA that allows no body changes gets no CHGBODY request; a repack then falls back to reject.
    @Test func asksOnlyForOfferedActions() {
        var s = Self.session()
        let r = replies(s.receive(.optionNegotiation(version: 6, actions: [.addHeaders], steps: Milter.Steps(rawValue: 0x1FFFFF))))
        #expect(r?.first == .optionNegotiation(version: 6, actions: [.addHeaders], steps: MilterSession.wantedSteps))
    }

    @Test func refusesVersion1AndEventsBeforeNegotiation() {
        var s = Self.session()
        guard case .close(let error?) = s.receive(.optionNegotiation(version: 1, actions: [], steps: [])) else {
            Issue.record("not closed"); return
        }
        #expect(error.contains("version 1"))
        var t = Self.session()
        guard case .close(let e?) = t.receive(.helo("x")) else { Issue.record("not closed"); return }
        #expect(e == "milter protocol error: HELO before option negotiation")
    }

    /// The v6 sequence Postfix produces, twice on one connection (ABORT between), with facts
    /// from CONNECT/HELO, macros and the envelope reaching the check.
    @Test func severalMessagesOnOneConnection() throws {
        var s = Self.session()
        _ = s.receive(Self.postfixV6)
        #expect(isNone(s.receive(.macros(stage: UInt8(ascii: "C"), [("j", "mx.example.org"), ("{daemon_addr}", "127.0.0.1")]))))
        #expect(isNone(s.receive(.connect(hostname: "client.example.com", family: UInt8(ascii: "6"), port: 4321, address: "2001:db8::5"))))
        #expect(isNone(s.receive(.helo("client.example.com"))))
        for n in 1...2 {
            #expect(isNone(s.receive(.macros(stage: UInt8(ascii: "M"), [("i", "QID\(n)")]))))
            #expect(isNone(s.receive(.mail(sender: "<alice@example.com>", arguments: ["SIZE=10"]))))
            #expect(isNone(s.receive(.recipient("<bob@example.org>", arguments: []))))
            #expect(isNone(s.receive(.recipient("<carol@example.org>", arguments: []))))
            #expect(isNone(s.receive(.header(name: "From", value: " alice@example.com"))))
            #expect(isNone(s.receive(.header(name: "Subject", value: " two\n\tlines"))))
            #expect(isNone(s.receive(.body(S.buffer("line 1\r\nline")))))
            #expect(isNone(s.receive(.body(S.buffer(" 2\r\n")))))
            guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
            #expect(request.id == n)
            #expect(request.envelope == Envelope(source: .milter, sender: "alice@example.com",
                                                 recipients: ["bob@example.org", "carol@example.org"], helo: "client.example.com",
                                                 clientAddress: "2001:db8::5", clientPort: 4321, clientHostname: "client.example.com",
                                                 serverAddress: "127.0.0.1", queueId: "QID\(n)"))
            guard case .bytes(let bytes) = request.message else { Issue.record("not bytes"); return }
            #expect(String(decoding: bytes, as: UTF8.self)
                == "From: alice@example.com\r\nSubject: two\r\n\tlines\r\n\r\nline 1\r\nline 2\r\n")
            // Nothing but ABORT may come while checking.
            #expect(replies(s.decided(id: n, S.decision(.pass))) == [.accept])
            #expect(isNone(s.receive(.abort)))
        }
        #expect(s.messagesChecked == 2)
        guard case .close(nil) = s.receive(.quit) else { Issue.record("no orderly close"); return }
    }

    /// RSET (ABORT mid-message) forgets the message; the next one starts clean.
    @Test func abortForgetsTheMessage() {
        var s = Self.session()
        _ = s.receive(Self.postfixV6)
        _ = s.receive(.mail(sender: "<a@example.com>", arguments: []))
        _ = s.receive(.recipient("<old@example.org>", arguments: []))
        _ = s.receive(.header(name: "Subject", value: " old"))
        #expect(isNone(s.receive(.abort)))
        #expect(!s.isMidMessage)
        _ = s.receive(.mail(sender: "<>", arguments: []))
        _ = s.receive(.recipient("<new@example.org>", arguments: []))
        _ = s.receive(.header(name: "Subject", value: " new"))
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        #expect(request.envelope.sender == "")
        #expect(request.envelope.recipients == ["new@example.org"])
        guard case .bytes(let bytes) = request.message else { return }
        #expect(String(decoding: bytes, as: UTF8.self) == "Subject: new\r\n\r\n")
    }

    /// ABORT while checking (the MTA gave up): the late decision is dropped, not sent.
    @Test func lateDecisionAfterAbortIsDropped() {
        var s = Self.session()
        _ = s.receive(Self.postfixV6)
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        #expect(s.isChecking(id: request.id))
        _ = s.receive(.abort)
        #expect(isNone(s.decided(id: request.id, S.decision(.pass))))
        #expect(!s.isChecking(id: request.id))
    }

    /// MilterScanTimeout: answered as unchecked (transient): accept, or 451 with BlockUnchecked.
    @Test func timeoutAnswersPerBlockUnchecked() {
        for block in [false, true] {
            var s = Self.session(blockUnchecked: block)
            _ = s.receive(Self.postfixV6)
            _ = s.receive(.mail(sender: "<a@b>", arguments: []))
            guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
            guard case .replyUnchecked(let r, let reason) = s.timedOut(id: request.id, blockUnchecked: block) else {
                Issue.record("no reply"); return
            }
            #expect(r == (block ? [.replyCode("451 4.7.1 The message could not be checked now, try again later")] : [.accept]))
            #expect(reason.contains("MilterScanTimeout"))
            #expect(isNone(s.decided(id: request.id, S.decision(.reject(nil)))))
        }
    }

    /// A body over the size limit: nothing more is kept and the answer follows BlockUnchecked.
    @Test func oversizedMessageFollowsBlockUnchecked() {
        for block in [false, true] {
            var s = Self.session(blockUnchecked: block, maxSize: 100_000)
            _ = s.receive(Self.postfixV6)
            _ = s.receive(.mail(sender: "<a@b>", arguments: []))
            for _ in 0..<3 { _ = s.receive(.body(ByteBuffer(bytes: [UInt8](repeating: 65, count: 65535)))) }
            guard case .replyUnchecked(let r, let reason) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("not unchecked"); return }
            #expect(r == (block ? [.replyCode("550 5.7.1 The message could not be checked")] : [.accept]))
            #expect(reason == "unchecked: larger than the limit of 100000 bytes (196607 bytes)")
        }
    }

    /// Above the spool threshold the message goes to a private file, handed over as `.file`.
    @Test func largeMessageIsSpooled() throws {
        let spool = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: spool) }
        var s = Self.session(spool: spool, spoolThreshold: 100_000)
        _ = s.receive(Self.postfixV6)
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        _ = s.receive(.header(name: "Subject", value: " big"))
        for _ in 0..<4 { _ = s.receive(.body(ByteBuffer(bytes: [UInt8](repeating: 65, count: 65535)))) }
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())),
              case .file(let path) = request.message else { Issue.record("not spooled"); return }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.size] as? Int) == 4 * 65535 + "Subject: big\r\n\r\n".utf8.count)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        unlink(path)
    }

    /// A spool file of a message the MTA aborted is removed at once.
    @Test func abortedSpooledMessageLeavesNoFile() throws {
        let spool = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: spool) }
        var s = Self.session(spool: spool, spoolThreshold: 1000)
        _ = s.receive(Self.postfixV6)
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        _ = s.receive(.body(ByteBuffer(bytes: [UInt8](repeating: 65, count: 5000))))
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).count == 1)
        s.closed()
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty)
    }

    @Test func eventsOutOfOrderClose() {
        var s = Self.session()
        _ = s.receive(Self.postfixV6)
        guard case .close(let e?) = s.receive(.body(S.buffer("x"))) else { Issue.record("not closed"); return }
        #expect(e == "milter protocol error: body without MAIL")
        var t = Self.session()
        _ = t.receive(Self.postfixV6)
        _ = t.receive(.mail(sender: "<a@b>", arguments: []))
        _ = t.receive(.endOfBody(ByteBuffer()))
        guard case .close(let e2?) = t.receive(.header(name: "X", value: "y")) else { Issue.record("not closed"); return }
        #expect(e2 == "milter protocol error: HEADER while the message is being checked")
    }

    /// QUIT_NC: a new SMTP connection on the same socket; connection facts start over.
    @Test func quitNewConnectionResetsFacts() {
        var s = Self.session()
        _ = s.receive(Self.postfixV6)
        _ = s.receive(.connect(hostname: "one", family: UInt8(ascii: "4"), port: 1, address: "192.0.2.1"))
        _ = s.receive(.helo("one"))
        #expect(isNone(s.receive(.quitNewConnection)))
        _ = s.receive(.connect(hostname: "two", family: UInt8(ascii: "U"), port: nil, address: nil))
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        #expect(request.envelope.helo == nil)
        #expect(request.envelope.clientAddress == nil)
        #expect(request.envelope.clientHostname == "two")
    }

    /// Without HDR_LEADSPC (older MTAs), the one space the MTA took off is put back.
    @Test func headerReconstructionWithoutLeadingSpace() {
        var s = Self.session()
        _ = s.receive(.optionNegotiation(version: 2, actions: Milter.Actions(rawValue: 0x3F), steps: Milter.Steps(rawValue: 0x7F)))
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        _ = s.receive(.header(name: "Subject", value: "hello"))
        _ = s.receive(.body(S.buffer("x\r\n")))
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())), case .bytes(let b) = request.message else { return }
        #expect(String(decoding: b, as: UTF8.self) == "Subject: hello\r\n\r\nx\r\n")
    }
}
