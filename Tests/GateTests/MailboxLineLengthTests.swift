import NIOCore
import Testing
@testable import Gate

/// The line-length rule the IMAP framer and both POP3 decoders share.
@Suite struct MailboxLineLengthTests {
    struct TooLong: Error, Equatable {}

    func length(_ text: String, limit: Int) throws(TooLong) -> Int? {
        try ByteBuffer(string: text).mailboxLineLength(limit: limit, tooLong: TooLong())
    }

    @Test func linesUpToTheLimitPass() throws {
        #expect(try length("abcd\r\nnext", limit: 4) == 6, "CRLF does not count against the limit")
        #expect(try length("abcd\nnext", limit: 4) == 5)
        #expect(try length("abc", limit: 4) == nil, "no LF yet")
        #expect(try length("abcd\r", limit: 4) == nil, "its LF can still come")
    }

    @Test func longerLinesAreRefusedWhereverTheReadEnds() {
        #expect(throws: TooLong()) { try length("abcde\r\n", limit: 4) }
        #expect(throws: TooLong()) { try length("abcdef", limit: 4) }
        var buffer = ByteBuffer(string: "xxabcd\r\n")
        buffer.moveReaderIndex(forwardBy: 2)
        #expect((try? buffer.mailboxLineLength(limit: 4, tooLong: TooLong())) == 6, "measured from the reader index")
    }
}
