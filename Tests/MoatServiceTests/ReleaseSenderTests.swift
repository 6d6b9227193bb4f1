import Testing
@testable import MoatService

/// The release's SMTP client: replies parsed on every split, bounded, never mistaken for
/// success; the DATA body dot-stuffed with CRLF line ends.
struct ReleaseSenderTests {
    @Test func repliesParseWholeAndOnEverySplit() throws {
        let text = Array("250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 1000\r\n220 next".utf8)
        let (reply, used) = try #require(try SMTPReply.parse(text))
        #expect(reply == SMTPReply(code: 250, lines: ["mx.example.org", "PIPELINING", "SIZE 1000"]))
        #expect(used == text.count - "220 next".utf8.count)
        for cut in 0..<used {
            #expect(try SMTPReply.parse(Array(text[..<cut])) == nil, "cut at \(cut)")
        }
        #expect(try SMTPReply.parse(Array("354\n".utf8))?.0 == SMTPReply(code: 354, lines: [""]))
    }

    @Test(arguments: ["hello\r\n", "25 x\r\n", "250-a\r\n251 b\r\n", "2a0 x\r\n", "250_x\r\n"])
    func malformedRepliesAreErrors(_ text: String) {
        #expect(throws: SMTPReply.ParseError.self) { try SMTPReply.parse(Array(text.utf8)) }
    }

    @Test func repliesAreBounded() {
        #expect(throws: SMTPReply.ParseError.tooLong) { try SMTPReply.parse([UInt8](repeating: 0x32, count: 5000)) }
        let many = Array(String(repeating: "250-x\r\n", count: 100).utf8)
        #expect(throws: SMTPReply.ParseError.tooLong) { try SMTPReply.parse(many) }
    }

    @Test func dataBodyIsStuffedAndEndsWithTheMark() {
        let message = Array("Subject: x\n\n.dot first\r\nplain\n..two\nlast".utf8)
        let body = String(decoding: ReleaseSender.dataBody(message, header: "X-Moat-Released-By: a"), as: UTF8.self)
        #expect(body == "X-Moat-Released-By: a\r\nSubject: x\r\n\r\n..dot first\r\nplain\r\n...two\r\nlast\r\n.\r\n")
    }

    @Test func addressesLoseWhatCouldBreakTheCommand() {
        #expect(ReleaseSender.clean("bob@example.org>\r\nRCPT TO:<x@y") == "bob@example.orgRCPTTO:x@y")
    }
}
