import InterfaceSupport
import NIOCore
import Testing

/// The shared `RequestLine` (InterfaceSupport) that spamd's and rspamd's decoders read their
/// request heads with: a line is taken only once whole, and never past the limit.
@Suite struct RequestLineTests {
    /// What one read gives, and how many bytes stay in the buffer.
    struct Read: Equatable {
        var line: RequestLine?
        var left: Int
        init(_ line: RequestLine?, _ left: Int) { self.line = line; self.left = left }
    }

    func read(_ text: String, maxLength: Int = 8, atEOF: Bool = false) -> Read {
        var buffer = ByteBuffer(string: text)
        let line = RequestLine.next(&buffer, maxLength: maxLength, atEOF: atEOF)
        return Read(line, buffer.readableBytes)
    }

    @Test func lineEndsAtLFWithoutItsCR() {
        #expect(read("PING\r\nrest") == Read(.text("PING"), 4))
        #expect(read("PING\nrest") == Read(.text("PING"), 4))
        #expect(read("\r\n") == Read(.text(""), 0))
        // Only the CR before the LF goes.
        #expect(read("A\r\r\n") == Read(.text("A\r"), 0))
    }

    @Test func incompleteLineWaitsUntilEOF() {
        #expect(read("PIN") == Read(nil, 3))
        #expect(read("PIN", atEOF: true) == Read(.cut(empty: false), 3))
        #expect(read("", atEOF: true) == Read(.cut(empty: true), 0))
    }

    @Test func theLimitCountsEveryByteBeforeTheLF() {
        #expect(read("12345678\n") == Read(.text("12345678"), 0))
        #expect(read("1234567\r\n") == Read(.text("1234567"), 0))
        #expect(read("12345678\r\n") == Read(.tooLong, 10))
        #expect(read("123456789\n") == Read(.tooLong, 10))
        // Past the limit without an LF yet: refused at once, nothing more is buffered.
        #expect(read("12345678") == Read(nil, 8))
        #expect(read("123456789") == Read(.tooLong, 9))
    }
}
