@testable import MilterInterface
import NIOCore
import Testing

/// Header fields as the MTA passes them become the stored message's lines: folds joined by a
/// bare LF get their CR back, a CRLF the MTA kept stays as it is, and the size limit counts
/// every byte.
struct MessageFramingTests {
    func stored(_ name: String, _ value: String, leadingSpace: Bool = false) -> String? {
        var framing = MessageFraming(maxSize: 1 << 20)
        guard case .bytes(let bytes)? = framing.header(name: name, value: value, leadingSpace: leadingSpace) else { return nil }
        return String(buffer: bytes)
    }

    @Test func foldsGetTheirCRBackAndNothingElseChanges() {
        #expect(stored("Subject", "plain") == "Subject: plain\r\n")
        #expect(stored("Subject", " kept as sent", leadingSpace: true) == "Subject: kept as sent\r\n")
        #expect(stored("Subject", "two\n\tlines") == "Subject: two\r\n\tlines\r\n")
        #expect(stored("Subject", "crlf\r\n\tkept\n\tand lf") == "Subject: crlf\r\n\tkept\r\n\tand lf\r\n")
        #expect(stored("X", "\n\tfirst") == "X: \r\n\tfirst\r\n", "a fold at the very start")
        #expect(stored("X", "a\n\n\tb") == "X: a\r\n\r\n\tb\r\n", "two LFs in a row")
        #expect(stored("X", "end\n") == "X: end\r\n\r\n")
        #expect(stored("X", "") == "X: \r\n")
        #expect(stored("X-Ü", "naïve\n\tväl") == "X-Ü: naïve\r\n\tväl\r\n", "UTF-8 passes byte for byte")
    }

    @Test func theSizeLimitCountsTheHeaderBytes() {
        var framing = MessageFraming(maxSize: 20)
        #expect(framing.header(name: "Subject", value: "12345", leadingSpace: false) != .drop)
        #expect(framing.size == "Subject: 12345\r\n".utf8.count)
        #expect(framing.header(name: "Subject", value: "12345", leadingSpace: false) == .drop)
        #expect(framing.header(name: "Subject", value: "12345", leadingSpace: false) == nil)
    }
}
