import Testing
@testable import Gate

/// The mailbox view event by event: selection, UIDVALIDITY, the sequence-to-UID map through
/// EXISTS, EXPUNGE and VANISHED, and set expansion.
@Suite struct IMAPMailboxViewTests {
    func selected(_ name: String? = "INBOX") -> IMAPMailboxView {
        var view = IMAPMailboxView()
        view.beginSelection(of: name)
        view.noteUIDValidity(42)
        view.selectionEnded(ok: true)
        return view
    }

    @Test func selectionNamesTheKeys() {
        var view = selected()
        #expect(view.isOpen && view.selection == 1)
        #expect(view.key(uid: 7) == IMAPMessageKey(mailbox: "INBOX", uidValidity: 42, uid: 7))
        view.beginSelection(of: nil)
        view.selectionEnded(ok: true)
        #expect(view.key(uid: 7) == IMAPMessageKey(mailbox: "\u{0}selection 2", uidValidity: 0, uid: 7),
                "unknown name: a key of this selection only")
    }

    @Test func failedSelectionClosesTheMailboxBefore() {
        var view = selected()
        view.learn(sequence: 1, uid: 10)
        view.beginSelection(of: "Nope")
        view.selectionEnded(ok: false)
        #expect(!view.isOpen && view.mailbox == nil && view.uidValidity == nil)
        #expect(view.uid(sequence: 1) == nil)
    }

    @Test func expungeShiftsTheMap() {
        var view = selected()
        view.exists(3)
        for (sequence, uid) in [(1, 10), (2, 20), (3, 30)] as [(UInt32, UInt32)] { view.learn(sequence: sequence, uid: uid) }
        view.expunge(2)
        #expect(view.uid(sequence: 1) == 10)
        #expect(view.uid(sequence: 2) == 30)
        #expect(view.uid(sequence: 3) == nil)
        #expect(view.messageCount == 2)
        #expect(view.ref(sequence: 2, uid: nil) == IMAPMessageRef(sequence: 2, uid: 30, mailbox: "INBOX", uidValidity: 42))
        #expect(view.ref(sequence: 2, uid: 99).uid == 99, "the response's own UID wins")
    }

    @Test func vanishedForgetsPositions() {
        var view = selected()
        view.exists(5)
        view.learn(sequence: 1, uid: 10)
        view.vanished()
        #expect(view.uid(sequence: 1) == nil)
        #expect(view.messageCount == nil)
        #expect(view.expand("1:*", uid: false, limit: 100) == nil, "* unknown")
    }

    @Test func unselectAndTLSReset() {
        var view = selected()
        view.unselected()
        #expect(!view.isOpen && view.mailbox == nil && view.selection == 2)
        view = selected()
        view.reset()
        #expect(!view.isOpen && view.mailbox == nil && view.uidValidity == nil && view.selection == 1)
    }

    @Test func setExpansion() {
        var view = selected()
        view.exists(4)
        #expect(view.expand("2,4:3,1", uid: false, limit: 10) == [1, 2, 3, 4])
        #expect(view.expand("3:*", uid: false, limit: 10) == [3, 4])
        #expect(view.expand("3:*", uid: true, limit: 10) == nil, "UID * is not the message count")
        #expect(view.expand("1:20", uid: true, limit: 10) == nil, "over the limit")
        #expect(view.expand("0", uid: true, limit: 10) == nil)
        #expect(view.expand("1::2", uid: true, limit: 10) == nil)
        #expect(view.expand("$", uid: true, limit: 10) == nil)
    }

    @Test func sequenceMapIsBounded() {
        var view = selected()
        for n in 1...UInt32(IMAPMailboxView.sequenceMapLimit) { view.learn(sequence: n, uid: n + 100) }
        #expect(view.uid(sequence: 1) == 101)
        view.learn(sequence: 20_000, uid: 5)
        #expect(view.uid(sequence: 1) == nil, "full: starts over")
        #expect(view.uid(sequence: 20_000) == 5)
    }
}
