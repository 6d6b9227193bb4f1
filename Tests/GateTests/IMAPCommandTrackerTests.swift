import NIOCore
import Testing
@testable import Gate

/// The command tracker event by event: what a client line means, which commands are
/// outstanding, when a SELECT takes effect, and the relay's own replies.
@Suite struct IMAPCommandTrackerTests {
    func line(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func commandsAreTyped() {
        #expect(IMAPClientCommand(line: line("a1 select inbox"))
                == IMAPClientCommand(tag: "a1", name: "SELECT", kind: .select(mailbox: "INBOX")))
        #expect(IMAPClientCommand(line: line("a2 EXAMINE \"Sent Items\""))?.kind == .select(mailbox: "Sent Items"))
        #expect(IMAPClientCommand(line: line("a3 SELECT"))?.kind == .select(mailbox: nil), "name as a literal: unknown")
        #expect(IMAPClientCommand(line: line("a4 uid fetch 1:* FLAGS"))?.name == "UID FETCH")
        #expect(IMAPClientCommand(line: line("a5 UNSELECT"))?.kind == .unselect)
        #expect(IMAPClientCommand(line: line("a6 CLOSE"))?.changesSelection == true)
        #expect(IMAPClientCommand(line: line("a7 UID SELECT x"))?.changesSelection == false)
        #expect(IMAPClientCommand(line: line("a8 STARTTLS"))?.kind == .startTLS)
        #expect(IMAPClientCommand(line: line("")) == nil)
        #expect(IMAPClientCommand(line: line("(x)")) == nil, "no tag")
    }

    @Test func linesAServerReadsOtherwiseAreRefused() {
        let refused = IMAPClientCommand.Kind.refused(reply: "* BAD Command line not understood by the gateway\r\n")
        #expect(IMAPClientCommand(line: line("1 IDLE)e"))?.kind == refused, "verb IDLE)e to a server")
        #expect(IMAPClientCommand(line: line("T\rX STARTTLS"))?.kind == refused, "a CR in the tag")
        #expect(IMAPClientCommand(line: line("\"a\" SELECT INBOX"))?.kind == refused, "a quoted tag")
        #expect(IMAPClientCommand(line: line("+a IDLE"))?.kind == refused, "+ starts a continuation")
        #expect(IMAPClientCommand(line: line("a\u{80} NOOP"))?.kind == refused)
        #expect(IMAPClientCommand(line: line("a] IDLE"))?.kind == .idle, "] is a tag character")
        #expect(IMAPClientCommand(line: line("a X-VENDOR.CMD (x)"))?.kind == .other)
        #expect(IMAPClientCommand(line: line("a LOGIN "))?.name == "LOGIN", "the text before a literal")
    }

    @Test func outstandingUntilTaggedReply() {
        var tracker = IMAPCommandTracker()
        #expect(tracker.begin(line("a NOOP"))?.tag == "a")
        tracker.lineEnded()
        #expect(tracker.begin(line("b CHECK"))?.tag == "b")
        #expect(tracker.outstandingTags == ["a", "b"])
        #expect(tracker.complete("b")?.command.name == "CHECK")
        #expect(tracker.complete("b") == nil, "answered once")
        #expect(tracker.complete("zz") == nil)
        #expect(tracker.outstandingTags == ["a"])
    }

    @Test func duplicateTagAndRefusedCommandsAreAnsweredLocally() {
        var tracker = IMAPCommandTracker()
        _ = tracker.begin(line("a IDLE"))
        #expect(tracker.begin(line("a NOOP")) == nil)
        #expect(tracker.swallowsLine)
        tracker.lineEnded()
        #expect(!tracker.swallowsLine)
        #expect(tracker.begin(line("c COMPRESS DEFLATE")) == nil)
        #expect(tracker.begin(line("d URLFETCH x")) == nil)
        #expect(tracker.outstandingTags == ["a"])
        let replies = tracker.takeLocalReplies().map { String(buffer: $0) }
        #expect(replies == ["a BAD Tag already in use by a command in progress\r\n",
                            "c NO [CANNOT] Compression is not available through this gateway\r\n",
                            "d NO [CANNOT] URLAUTH is not available through this gateway\r\n"])
        #expect(!tracker.hasLocalReplies)
    }

    @Test func idleTakesOnlyDoneAndAuthenticateOneLinePerContinuation() {
        var tracker = IMAPCommandTracker()
        _ = tracker.begin(line("i IDLE"))
        #expect(tracker.isIdling && tracker.readsRawLines)
        #expect(tracker.rawLine(line("not done")) == .unasked("a line other than DONE during IDLE"))
        #expect(tracker.isIdling)
        #expect(tracker.rawLine(line(" done ")) == .data)
        #expect(!tracker.isIdling && !tracker.readsRawLines)
        #expect(tracker.outstandingTags == ["i"], "still owed its tagged reply")

        let unasked = IMAPCommandTracker.RawLine.unasked("an AUTHENTICATE line the server did not ask for")
        _ = tracker.begin(line("s AUTHENTICATE PLAIN"))
        #expect(tracker.rawLine(line("AGEAYg==")) == unasked, "before the server's +")
        tracker.serverContinuation()
        #expect(tracker.rawLine(line("DONE")) == .data, "DONE is SASL data here")
        #expect(tracker.rawLine(line("x STARTTLS")) == unasked, "one line per +")
        tracker.serverContinuation()
        tracker.serverContinuation()
        #expect(tracker.rawLine(line("a")) == .data)
        #expect(tracker.rawLine(line("*")) == .data)
        #expect(tracker.readsRawLines)
        _ = tracker.complete("s")
        #expect(!tracker.readsRawLines)

        // A + outside AUTHENTICATE (a literal's) is not an allowance for the next one.
        tracker.serverContinuation()
        _ = tracker.begin(line("t AUTHENTICATE PLAIN"))
        #expect(tracker.rawLine(line("AGEAYg==")) == unasked)
    }

    @Test func selectionTakesEffectWhenOldest() {
        var tracker = IMAPCommandTracker()
        _ = tracker.begin(line("n NOOP"))
        _ = tracker.begin(line("s SELECT Archive"))
        #expect(tracker.selectionChanging)
        #expect(!tracker.selectionInProgress)
        #expect(tracker.selectionToBegin() == nil, "NOOP is in front")
        _ = tracker.complete("n")
        #expect(tracker.selectionInProgress)
        #expect(tracker.selectionToBegin() == .init(mailbox: "Archive"))
        #expect(tracker.selectionToBegin() == nil, "handed out once")
        #expect(tracker.complete("s")?.selectionBegun == true)
        #expect(!tracker.selectionChanging)
    }

    @Test func selectAnsweredOutOfOrderHasNotBegun() {
        var tracker = IMAPCommandTracker()
        _ = tracker.begin(line("n NOOP"))
        _ = tracker.begin(line("s EXAMINE INBOX"))
        let done = tracker.complete("s")
        #expect(done?.command.kind == .select(mailbox: "INBOX"))
        #expect(done?.selectionBegun == false)
    }
}
