import NIOCore
import Testing
@testable import Gate

/// The private fetch's phases event by event (the session-level scenarios are in
/// IMAPPrivateFetchTests).
@Suite struct IMAPPrivateFetchPhaseTests {
    let request = IMAPPrivateFetch.Request(uid: true, set: "5:7")

    func waiting() -> IMAPPrivateFetch {
        var fetch = IMAPPrivateFetch()
        fetch.hold(buf("c1 UID FETCH 5:7 (BODY.PEEK[1])\r\n"), rest: buf("c2 NOOP\r\n"), for: request)
        return fetch
    }

    @Test func heldInputComesBackWhenAllChecksAnswered() {
        var fetch = waiting()
        #expect(fetch.phase == .waiting(request) && fetch.isActive && !fetch.isRunning)
        fetch.holdMore(buf("c3 NOOP\r\n"))
        let line = fetch.start(set: "6")
        #expect(line.map { String(buffer: $0) } == "moat.1 UID FETCH 6 (UID BODY.PEEK[])\r\n")
        #expect(fetch.isRunning && fetch.isOwn(tag: "moat.1") && !fetch.isOwn(tag: "c1"))
        fetch.checking(MailCheckID(rawValue: 3), key: nil, size: 100)
        #expect(fetch.checkBytes == 100)
        #expect(fetch.finishIfDone() == nil, "reply not in")
        #expect(fetch.replied(status: "OK") == nil)
        #expect(fetch.phase == .checking)
        #expect(fetch.finishIfDone() == nil, "a check is out")
        #expect(fetch.checkFinished(MailCheckID(rawValue: 4)) == nil, "not the fetch's")
        #expect(fetch.checkFinished(MailCheckID(rawValue: 3)) == .init(key: nil, size: 100))
        #expect(fetch.checkBytes == 0)
        let held = fetch.finishIfDone()
        #expect(held.map { String(buffer: $0) } == "c1 UID FETCH 5:7 (BODY.PEEK[1])\r\nc2 NOOP\r\nc3 NOOP\r\n")
        #expect(fetch.phase == .none && fetch.heldClientInput.readableBytes == 0)
        let judged = fetch.takeJudged()
        let again = fetch.takeJudged()
        #expect(judged, "the held command goes out as it is")
        #expect(!again, "once")
    }

    @Test func nothingToFetchEndsAtOnce() {
        var fetch = waiting()
        #expect(fetch.start(set: nil) == nil)
        #expect(fetch.phase == .checking)
        #expect(fetch.finishIfDone() != nil)
    }

    @Test func refusalNamesTheCommandAndTagsCount() {
        var fetch = waiting()
        _ = fetch.start(set: "5:7")
        #expect(fetch.replied(status: "NO") == "UID FETCH 5:7 (UID BODY.PEEK[])")
        _ = fetch.finishIfDone()
        fetch.hold(buf("x FETCH 1 BODY[1]\r\n"), rest: ByteBuffer(), for: .init(uid: false, set: "1"))
        #expect(fetch.start(set: "1").map { String(buffer: $0) } == "moat.2 FETCH 1 (UID BODY.PEEK[])\r\n")
        #expect(fetch.start(set: "1") == nil, "not waiting any more")
    }

    @Test func serverCloseAndTLSDropTheHeldInput() {
        var fetch = waiting()
        fetch.dropHeldInput()
        #expect(fetch.heldClientInput.readableBytes == 0 && fetch.isActive)
        fetch.reset()
        #expect(fetch.phase == .none)
    }
}
