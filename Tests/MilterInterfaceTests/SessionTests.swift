import Foundation
import MailD
import NIOCore
import Testing
@testable import MilterInterface

/// The session state machine, event by event, without a socket. The message the check gets is
/// read from the bytes the session emitted to be stored (`StoringSession`).
@Suite("Milter session")
struct SessionTests {
    typealias S = Support

    static func session(blockUnchecked: Bool = false, maxSize: Int = 1 << 20, spoolThreshold: Int = 16 << 20) -> StoringSession {
        let profile = S.profile(blockUnchecked: blockUnchecked, spoolThreshold: spoolThreshold)
        return StoringSession(MilterSession(configuration: .init(maxMessageSize: maxSize, profile: { profile })))
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
        #expect(r == [.optionNegotiation(version: 6, actions: [.addHeaders, .changeBody, .changeHeaders, .setSymbolList],
                                         steps: MilterSession.wantedSteps, macros: MilterSession.wantedMacros)])
        #expect(MilterSession.wantedMacros.map(\.names) == ["{daemon_addr} {daemon_port}", "i", "i"])
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
        guard case .check = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        #expect(s.checkedText == "Subject: x\r\n\r\nhello\r\n")
    }

    /// Versions 3 and 4 (Postfix milter_protocol = 3/4) answer with their own version.
    @Test(arguments: [(UInt32(3), UInt32(0x17F)), (4, 0x37F), (7, 0x1FFFFF)])
    func negotiatesOtherVersions(version: UInt32, steps: UInt32) {
        var s = Self.session()
        guard case .optionNegotiation(let agreed, _, let got, _)? = replies(s.receive(.optionNegotiation(
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
        guard case .optionNegotiation(6, let actions, let steps, _)? = replies(s.receive(.optionNegotiation(
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

    /// Macro lists are named only where the MTA offers SMFIF_SETSYMLIST on version 6: an older
    /// MTA would read the lists as a malformed negotiation.
    @Test func namesItsMacrosOnlyWhereTheMTALetsItChoose() {
        var v6 = Self.session()
        guard case .optionNegotiation(_, let actions, _, let macros)? = replies(v6.receive(Self.postfixV6))?.first else {
            Issue.record("no reply"); return
        }
        #expect(actions.contains(.setSymbolList) && macros == MilterSession.wantedMacros)
        var noSymbols = Self.session()
        #expect(replies(noSymbols.receive(.optionNegotiation(version: 6, actions: Milter.Actions(rawValue: 0xFF),
                                                             steps: Milter.Steps(rawValue: 0x1FFFFF))))?.first
            == .optionNegotiation(version: 6, actions: [.addHeaders, .changeBody, .changeHeaders], steps: MilterSession.wantedSteps))
        var v4 = Self.session()
        guard case .optionNegotiation(4, _, _, let none)? = replies(v4.receive(.optionNegotiation(
            version: 4, actions: Milter.Actions(rawValue: 0x1FF), steps: Milter.Steps(rawValue: 0x37F))))?.first else {
            Issue.record("no reply"); return
        }
        #expect(none.isEmpty)
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
            #expect(s.checkedText == "From: alice@example.com\r\nSubject: two\r\n\tlines\r\n\r\nline 1\r\nline 2\r\n")
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
        #expect(s.pieces.last == .drop)
        #expect(s.stored == nil)
        #expect(!s.isMidMessage)
        _ = s.receive(.mail(sender: "<>", arguments: []))
        _ = s.receive(.recipient("<new@example.org>", arguments: []))
        _ = s.receive(.header(name: "Subject", value: " new"))
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        #expect(request.envelope.sender == "")
        #expect(request.envelope.recipients == ["new@example.org"])
        #expect(s.checkedText == "Subject: new\r\n\r\n")
    }

    /// ABORT while checking (the MTA gave up): the late decision is dropped, not sent.
    @Test func lateDecisionAfterAbortIsDropped() {
        var s = Self.session()
        _ = s.receive(Self.postfixV6)
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        #expect(s.isChecking(id: request.id))
        // The stored message goes too (and with it the check that reads it).
        guard case .store(.drop, let replies) = s.session.receive(.abort) else { Issue.record("no drop"); return }
        #expect(replies.isEmpty)
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

    /// A body over the size limit: what was stored is dropped the moment it passes, nothing
    /// more is kept and the answer follows BlockUnchecked.
    @Test func oversizedMessageFollowsBlockUnchecked() {
        for block in [false, true] {
            var s = Self.session(blockUnchecked: block, maxSize: 100_000)
            _ = s.receive(Self.postfixV6)
            _ = s.receive(.mail(sender: "<a@b>", arguments: []))
            for _ in 0..<3 { _ = s.receive(.body(ByteBuffer(bytes: [UInt8](repeating: 65, count: 65535)))) }
            // Begin, the first chunk (with the blank line), then one drop at the second chunk and nothing after it.
            #expect(s.pieces.count == 3)
            #expect(s.pieces.last == .drop)
            #expect(s.stored == nil)
            guard case .replyUnchecked(let r, let reason) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("not unchecked"); return }
            #expect(s.pieces.count == 3)
            #expect(r == (block ? [.replyCode("550 5.7.1 The message could not be checked")] : [.accept]))
            #expect(reason == "unchecked: larger than the limit of 100000 bytes (196607 bytes)")
        }
    }

    /// Exactly at the limit the message is still checked; the last chunk can push it over.
    @Test func sizeLimitCountsEveryByte() {
        var s = Self.session(maxSize: 16)
        _ = s.receive(Self.postfixV6)
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        _ = s.receive(.header(name: "X", value: " 12345678"))  // 13 bytes with CRLF
        guard case .check = s.receive(.endOfBody(S.buffer("x"))) else { Issue.record("no check"); return }  // +2 +1 = 16
        #expect(s.checked?.count == 16)
        _ = s.decided(id: 1, S.decision(.pass))
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        _ = s.receive(.header(name: "X", value: " 12345678"))
        guard case .replyUnchecked(_, let reason) = s.receive(.endOfBody(S.buffer("xy"))) else { Issue.record("not unchecked"); return }
        #expect(reason == "unchecked: larger than the limit of 16 bytes (17 bytes)")
    }

    /// The spool could not be written (the handler found out): a temporary failure whatever
    /// BlockUnchecked says, never a pass; a late verdict is dropped.
    @Test func notStoredTempfailsWhateverBlockUnchecked() {
        for block in [false, true] {
            var s = Self.session(blockUnchecked: block)
            _ = s.receive(Self.postfixV6)
            _ = s.receive(.mail(sender: "<a@b>", arguments: []))
            guard case .check(let request) = s.receive(.endOfBody(S.buffer("x"))) else { Issue.record("no check"); return }
            guard case .replyUnchecked(let r, let reason) = s.notStored(id: request.id, reason: "cannot write to /spool/x: No space left on device") else {
                Issue.record("no reply"); return
            }
            #expect(r == [.replyCode("451 4.3.0 Local error in the mail filter, try again later")])
            #expect(reason == "Moat failure: cannot write to /spool/x: No space left on device")
            #expect(isNone(s.decided(id: request.id, S.decision(.pass))))
            #expect(isNone(s.notStored(id: request.id, reason: "again")))
        }
    }

    /// The session holds no copy of the message: MAIL begins it with the profile's spool
    /// threshold (the handler spools past it) and every chunk is handed on as it comes.
    @Test func largeMessageIsHandedOnChunkByChunk() {
        var s = Self.session(spoolThreshold: 100_000)
        _ = s.receive(Self.postfixV6)
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        #expect(s.pieces == [.begin(spoolThreshold: 100_000)])
        _ = s.receive(.header(name: "Subject", value: " big"))
        for n in 0..<4 {
            let chunk = [UInt8](repeating: 65 + UInt8(n), count: 65535)
            guard case .store(.bytes(let piece), replies: []) = s.session.receive(.body(ByteBuffer(bytes: chunk))) else {
                Issue.record("chunk \(n) not stored"); return
            }
            // The first chunk comes after the blank line that ends the header.
            #expect(Array(piece.readableBytesView) == (n == 0 ? Array("\r\n".utf8) : []) + chunk)
        }
        guard case .check(let request) = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        #expect(request.lastBytes.readableBytes == 0)
        #expect(request.profile.spoolThreshold == 100_000)
    }

    /// ABORT, a new MAIL and QUIT_NC each drop what was stored, at once; without a message
    /// nothing is dropped.
    @Test func storedMessageDroppedOnAbortNewMailAndNewConnection() {
        var s = Self.session()
        _ = s.receive(Self.postfixV6)
        #expect(isNone(s.session.receive(.abort)))
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        _ = s.receive(.body(S.buffer("first\r\n")))
        // Sendmail's MAIL after an accepted message, without ABORT: `begin` replaces the message.
        guard case .store(.begin, replies: []) = s.session.receive(.mail(sender: "<c@d>", arguments: [])) else { Issue.record("no begin"); return }
        _ = s.receive(.body(S.buffer("second\r\n")))
        guard case .store(.drop, replies: []) = s.session.receive(.quitNewConnection) else { Issue.record("no drop"); return }
        _ = s.receive(.mail(sender: "<a@b>", arguments: []))
        // QUIT closes: the handler drops what was stored with the connection.
        guard case .close(nil) = s.session.receive(.quit) else { Issue.record("no close"); return }
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
        guard case .check = s.receive(.endOfBody(ByteBuffer())) else { Issue.record("no check"); return }
        #expect(s.checkedText == "Subject: hello\r\n\r\nx\r\n")
    }
}
