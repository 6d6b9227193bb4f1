import MailD
import SenderAuth
import Testing
@testable import MilterInterface

@Suite("Verdicts to milter replies")
struct VerdictRepliesTests {
    typealias S = Support
    static let all: Milter.Actions = [.addHeaders, .changeBody, .changeHeaders]

    func replies(_ decision: MailD.Decision, actions: Milter.Actions = all, leadingSpace: Bool = true,
                 original: [(name: String, value: String)] = []) -> [MilterReply] {
        VerdictReplies.replies(for: decision, actions: actions, leadingSpace: leadingSpace, originalHeaders: original)
    }

    @Test func arcSealGoesOnTopInOrderAfterTheAddedHeaders() {
        var decision = S.decision(.pass, headers: [("X-Moat-Scan", "clean")])
        decision.sealHeaders = [SignedHeaderField(name: "ARC-Seal", segments: ["i=1; a=rsa-sha256;", "b=abc"]),
                                SignedHeaderField(name: "ARC-Message-Signature", segments: ["i=1; b=def"]),
                                SignedHeaderField(name: "ARC-Authentication-Results", segments: ["i=1; mx; spf=pass"])]
        // Each inserted at index 0: the last one sent (ARC-Seal) ends up on top.
        #expect(replies(decision) == [
            .addHeader(name: "X-Moat-Scan", value: " clean"),
            .insertHeader(index: 0, name: "ARC-Authentication-Results", value: " i=1; mx; spf=pass"),
            .insertHeader(index: 0, name: "ARC-Message-Signature", value: " i=1; b=def"),
            .insertHeader(index: 0, name: "ARC-Seal", value: " i=1; a=rsa-sha256;\n\tb=abc"),
            .accept,
        ])
        #expect(!replies(decision, actions: [.changeBody]).contains { if case .insertHeader = $0 { true } else { false } })
    }

    @Test func forgedResultsInMoatsNameAreDeletedLastFirstBeforeMoatsOwnIsAdded() {
        var decision = S.decision(.pass, headers: [("Authentication-Results", "mx; spf=pass")])
        decision.forgedAuthenticationResults = [1, 3]
        #expect(replies(decision) == [
            .changeHeader(index: 3, name: "Authentication-Results", value: ""),
            .changeHeader(index: 1, name: "Authentication-Results", value: ""),
            .addHeader(name: "Authentication-Results", value: " mx; spf=pass"),
            .accept,
        ])
    }

    @Test func passAddsRuleHeadersThenAccepts() {
        #expect(replies(S.decision(.pass)) == [.accept])
        #expect(replies(S.decision(.pass, headers: [("X-Moat-Scan", "clean")])) == [.addHeader(name: "X-Moat-Scan", value: " clean"), .accept])
        #expect(replies(S.decision(.pass, headers: [("X-Moat-Scan", "clean")]), leadingSpace: false)
            == [.addHeader(name: "X-Moat-Scan", value: "clean"), .accept])
    }

    @Test func rejectAndTempfailCarryTextWithEnhancedCode() {
        #expect(replies(S.decision(.reject("The message contains a THREAT"))) == [.replyCode("550 5.7.1 The message contains a THREAT")])
        #expect(replies(S.decision(.reject(nil))) == [.replyCode("550 5.7.1 The message was rejected by the content policy")])
        #expect(replies(S.decision(.tempfail("busy"))) == [.replyCode("451 4.7.1 busy")])
        #expect(replies(S.decision(.reject("100% bad\r\nspam"))) == [.replyCode("550 5.7.1 100%% bad  spam")])
        #expect(replies(S.decision(.discard)) == [.discard])
    }

    @Test func nonASCIIHeaderValuesAreEncoded() {
        #expect(VerdictReplies.headerValue("Größe geprüft", leadingSpace: false) == "=?UTF-8?B?R3LDtsOfZSBnZXByw7xmdA==?=")
        let long = VerdictReplies.headerValue(String(repeating: "é", count: 40), leadingSpace: false)
        #expect(long.split(separator: "\n").count == 2)
        #expect(long.split(separator: "\n").allSatisfy { $0.count <= 76 })
        #expect(VerdictReplies.headerValue("a\r\n b", leadingSpace: false) == "a b")
    }

    /// Repack: changed MIME headers, the new body, then accept.
    @Test func repackReplacesBodyAndFixesMimeHeaders() {
        let repacked = Array("""
            From: a@example.com\r
            Subject: x\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed;\r
             boundary="moat-new"\r
            X-Moat-Repacked: yes\r
            \r
            --moat-new\r
            body\r
            --moat-new--\r

            """.utf8)
        let original = [(name: "From", value: " a@example.com"), (name: "Subject", value: " x"),
                        (name: "Content-Type", value: " text/plain"), (name: "Content-Transfer-Encoding", value: " base64")]
        let r = replies(S.decision(.repack(nil), headers: [("X-Added", "1")], repacked: repacked), original: original)
        #expect(r == [
            .addHeader(name: "MIME-Version", value: " 1.0"),
            .changeHeader(index: 1, name: "Content-Type", value: " multipart/mixed;\n boundary=\"moat-new\""),
            .changeHeader(index: 1, name: "Content-Transfer-Encoding", value: ""),
            .addHeader(name: "X-Moat-Repacked", value: " yes"),
            .replaceBody(Array("--moat-new\r\nbody\r\n--moat-new--\r\n".utf8)),
            .addHeader(name: "X-Added", value: " 1"),
            .accept,
        ])
    }

    @Test func repackBodySplitIntoChunks() {
        let body = [UInt8](repeating: 66, count: 150_000)
        let r = replies(S.decision(.repack(nil), repacked: Array("Subject: y\r\n\r\n".utf8) + body), original: [(name: "Subject", value: " y")])
        let chunks = r.compactMap { if case .replaceBody(let b) = $0 { b } else { nil } }
        #expect(chunks.map(\.count) == [65535, 65535, 150_000 - 2 * 65535])
        #expect(r.last == .accept)
    }

    /// Never pass a threat silently: no repacked message, or no right to change the body: reject.
    @Test func repackWithoutMessageRejects() {
        #expect(replies(S.decision(.repack("Threat removed"))) == [.replyCode("550 5.7.1 Threat removed")])
        #expect(replies(S.decision(.repack(nil), repacked: Array("A: b\r\n\r\nx".utf8)), actions: [.addHeaders])
            == [.replyCode("550 5.7.1 Parts of the message were removed by the content policy")])
    }
}
