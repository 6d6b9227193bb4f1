import NIOCore
import Testing
@testable import Gate

/// The response assembler event by event: response kinds, FETCH item roles, and where literal
/// bytes go for each sink.
@Suite struct IMAPResponseAssemblerTests {
    @Test func kindsFromTheFirstSegment() {
        func kind(_ s: String) -> String { "\(IMAPResponseKind(firstSegment: buf(s)))" }
        #expect(kind("+ go ahead") == "continuation")
        #expect(kind("a1 ok done") == "status(tag: Optional(\"a1\"), status: \"OK\")")
        #expect(kind("* BYE") == "status(tag: nil, status: \"BYE\")")
        #expect(kind("* 3 EXISTS") == "exists(3)")
        #expect(kind("* 2 expunge") == "expunge(2)")
        #expect(kind("* VANISHED (EARLIER) 1:3") == "vanished")
        #expect(IMAPResponseKind(firstSegment: buf("* 1 FETCH (UID 5)")).isFetch)
        #expect(kind("* LIST () \"/\" x") == "other")
        #expect(kind("") == "other")
        #expect(IMAPResponseKind.responseCodeNumber("UIDVALIDITY", in: "* OK [uidvalidity 3857529045] UIDs") == 3857529045)
        #expect(IMAPResponseKind.responseCodeNumber("UIDVALIDITY", in: "* OK [UIDNEXT 4]") == nil)
    }

    @Test func segmentsOfOneResponseKeepItsKind() {
        var assembler = IMAPResponseAssembler()
        #expect(assembler.kind(of: buf("* 1 FETCH (BODY[] "), first: true, privateFetchRunning: true).isFetch)
        #expect(assembler.isPrivate)
        #expect(assembler.fetchRole(buf("* 1 FETCH (BODY[] "), endsWithLiteral: true) == .wholeMessage(item: "BODY[]"))
        // The segment after the literal continues the FETCH, whatever its text looks like.
        #expect(assembler.kind(of: buf(" UID 9)"), first: false, privateFetchRunning: false).isFetch)
        #expect(assembler.fetchRole(buf(" UID 9)"), endsWithLiteral: false) == nil)
        #expect(assembler.response?.fetch?.uid == 9)
        #expect(assembler.finish()?.isPrivate == true)
        #expect(assembler.isIdle)
        #expect(assembler.fetchRole(buf("x"), endsWithLiteral: true) == nil, "no FETCH")
    }

    @Test func heldLiteralIsCollectedAndQueued() {
        var assembler = IMAPResponseAssembler()
        _ = assembler.kind(of: buf("* 1 FETCH (BODY[] "), first: true, privateFetchRunning: false)
        let id = MailCheckID(rawValue: 1)
        assembler.route(to: .hold(id, markerBytes: buf("{5}\r\n"), marker: .init(length: 5), role: .wholeMessage(item: "BODY[]")))
        #expect(assembler.literalBytes(buf("ab"), headLimit: 1) == nil)
        #expect(assembler.literalBytes(buf("cde"), headLimit: 1) == nil)
        #expect(assembler.bufferedBytes == 5)
        let held = assembler.literalEnd()
        #expect(held?.0 == id)
        #expect(held.map { String(buffer: $0.1.literal) } == "abcde")
        #expect(held.map { String(buffer: $0.1.markerBytes) } == "{5}\r\n")
        #expect(assembler.bufferedBytes == 0)
        #expect(assembler.literalBytes(buf("x"), headLimit: 1) == buf("x"), "after the literal: no sink, streamed")
        #expect(assembler.finish()?.holds.map(\.0) == [id])
    }

    @Test func headKeepsOnlyTheNoticeHead() {
        var assembler = IMAPResponseAssembler()
        _ = assembler.kind(of: buf("* 1 FETCH (RFC822 "), first: true, privateFetchRunning: false)
        assembler.route(to: .head(MailCheckID(rawValue: 2)))
        for piece in ["Subj", "ect: x\r\n", "body"] { #expect(assembler.literalBytes(buf(piece), headLimit: 6) == nil) }
        #expect(assembler.literalEnd() == nil)
        let done = assembler.finish()
        #expect(done?.replacements.map { String(decoding: $0.1, as: UTF8.self) } == ["Subjec"])
    }

    @Test func streamedDiscardedAndPrivateLiterals() {
        var assembler = IMAPResponseAssembler()
        _ = assembler.kind(of: buf("* 1 FETCH (BODY[1] "), first: true, privateFetchRunning: true)
        assembler.route(to: .stream)
        #expect(assembler.literalBytes(buf("abc"), headLimit: 0) == buf("abc"))
        _ = assembler.literalEnd()
        assembler.route(to: .discard)
        #expect(assembler.literalBytes(buf("abc"), headLimit: 0) == nil)
        _ = assembler.literalEnd()
        assembler.keepPrivateText(buf(" BODY[2] {2}\r\n"))
        assembler.route(to: .privateText)
        #expect(assembler.literalBytes(buf("hi"), headLimit: 0) == nil)
        _ = assembler.literalEnd()
        assembler.notePrivateWhole()
        assembler.route(to: .privateMessage)
        _ = assembler.literalBytes(buf("Subject: y\r\n"), headLimit: 0)
        _ = assembler.literalEnd()
        let done = assembler.finish()
        #expect(done.map { String(buffer: $0.privateText) } == " BODY[2] {2}\r\nhi")
        #expect(done?.privateMessage.map { String(buffer: $0) } == "Subject: y\r\n")
        #expect(done?.privateWhole == true && done?.privateContent == false)
    }
}
