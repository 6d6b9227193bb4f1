import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
@testable import MilterInterface

@Suite("Milter codec")
struct CodecTests {
    typealias S = Support

    /// Every packet Postfix sends in one transaction, in one stream: whole, byte by byte and
    /// in random splits, the same commands must come out.
    @Test func decodesPostfixTransactionOnEverySplit() throws {
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 66_000)
        let pairs: [(ByteBuffer, [MilterCommand])] = [
            (S.buffer(S.packet("O", S.u32(6) + S.u32(0x1FF) + S.u32(0x1FFFFF))),
             [.optionNegotiation(version: 6, actions: Milter.Actions(rawValue: 0x1FF), steps: Milter.Steps(rawValue: 0x1FFFFF))]),
            (S.buffer(S.packet("D", [UInt8(ascii: "C")] + S.str0("j", "mx.example.org", "{daemon_addr}", "127.0.0.1"))),
             [.macros(stage: UInt8(ascii: "C"), [("j", "mx.example.org"), ("{daemon_addr}", "127.0.0.1")])]),
            (S.buffer(S.packet("D", [UInt8(ascii: "T")])), [.macros(stage: UInt8(ascii: "T"), [])]),
            (S.buffer(S.packet("C", S.str0("client.example.com") + [UInt8(ascii: "4")] + [0x1F, 0x90] + S.str0("192.0.2.1"))),
             [.connect(hostname: "client.example.com", family: UInt8(ascii: "4"), port: 8080, address: "192.0.2.1")]),
            (S.buffer(S.packet("C", S.str0("[2001:db8::1]") + [UInt8(ascii: "6")] + [0, 25] + S.str0("2001:db8::1"))),
             [.connect(hostname: "[2001:db8::1]", family: UInt8(ascii: "6"), port: 25, address: "2001:db8::1")]),
            (S.buffer(S.packet("C", S.str0("localhost") + [UInt8(ascii: "U")])),
             [.connect(hostname: "localhost", family: UInt8(ascii: "U"), port: nil, address: nil)]),
            (S.buffer(S.packet("H", S.str0("client.example.com"))), [.helo("client.example.com")]),
            (S.buffer(S.packet("M", S.str0("<alice@example.com>", "SIZE=123", "BODY=8BITMIME"))),
             [.mail(sender: "<alice@example.com>", arguments: ["SIZE=123", "BODY=8BITMIME"])]),
            (S.buffer(S.packet("R", S.str0("<bob@example.org>"))), [.recipient("<bob@example.org>", arguments: [])]),
            (S.buffer(S.packet("T")), [.data]),
            (S.buffer(S.packet("L", S.str0("Subject", " folded\n\tline"))), [.header(name: "Subject", value: " folded\n\tline")]),
            (S.buffer(S.packet("N")), [.endOfHeaders]),
            (S.buffer(S.packet("B", body)), [.body(ByteBuffer(bytes: body))]),
            (S.buffer(S.packet("E")), [.endOfBody(ByteBuffer())]),
            (S.buffer(S.packet("U", S.str0("XFOO bar"))), [.unknown("XFOO bar")]),
            (S.buffer(S.packet("A")), [.abort]),
            (S.buffer(S.packet("K")), [.quitNewConnection]),
            (S.buffer(S.packet("Q")), [.quit]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { MilterCommandDecoder() }
    }

    @Test func refusesOversizedPacketBeforeBuffering() throws {
        var buffer = S.buffer(S.u32(0x4000_0000) + [UInt8(ascii: "B")])
        #expect(throws: MilterProtocolError.self) { _ = try MilterCommandDecoder.next(&buffer) }
        do {
            var again = S.buffer(S.u32(2_000_000))
            _ = try MilterCommandDecoder.next(&again)
            Issue.record("no error")
        } catch let error as MilterProtocolError {
            #expect(error.code == .oversizedPacket)
            #expect(error.description == "milter packet of 2000000 bytes is over the limit of 1048576")
        }
    }

    @Test func refusesEmptyAndUnknownPackets() throws {
        var empty = S.buffer(S.u32(0))
        #expect(throws: MilterProtocolError(code: .emptyPacket, detail: "milter packet of length 0")) {
            _ = try MilterCommandDecoder.next(&empty)
        }
        var unknown = S.buffer(S.packet("Z", [1, 2, 3]))
        #expect(throws: MilterProtocolError(code: .unknownCommand, detail: "unknown milter command 'Z' (3 data bytes)")) {
            _ = try MilterCommandDecoder.next(&unknown)
        }
        var short = S.buffer(S.packet("O", S.u32(6)))
        #expect(throws: MilterProtocolError.self) { _ = try MilterCommandDecoder.next(&short) }
        var unterminated = S.buffer(S.packet("H", Array("abc".utf8)))
        #expect(throws: MilterProtocolError.self) { _ = try MilterCommandDecoder.next(&unterminated) }
    }

    /// Strings end at their NUL inside their own packet: never at a NUL of the next packet;
    /// empty strings are strings; invalid UTF-8 is repaired, not refused.
    @Test func stringsEndInsideTheirPacket() throws {
        // The next packet's length starts with NUL bytes, right after the unterminated string.
        var unterminated = S.buffer(S.packet("H", Array("abc".utf8)) + S.packet("N"))
        #expect(throws: MilterProtocolError.self) { _ = try MilterCommandDecoder.next(&unterminated) }
        var empty = S.buffer(S.packet("M", S.str0("<>", "")))
        #expect(try MilterCommandDecoder.next(&empty) == .mail(sender: "<>", arguments: [""]))
        var invalid = S.buffer(S.packet("L", [0x58, 0xFF, 0] + S.str0("v\u{E9}")))
        #expect(try MilterCommandDecoder.next(&invalid) == .header(name: "X\u{FFFD}", value: "v\u{E9}"))
    }

    @Test func incompletePacketWaits() throws {
        var buffer = S.buffer(Array(S.packet("H", S.str0("x")).dropLast()))
        #expect(try MilterCommandDecoder.next(&buffer) == nil)
        #expect(buffer.readableBytes == 6)
    }

    @Test func encodesReplies() {
        #expect(S.encode(.continue) == [0, 0, 0, 1, UInt8(ascii: "c")])
        #expect(S.encode(.accept) == [0, 0, 0, 1, UInt8(ascii: "a")])
        #expect(S.encode(.progress) == [0, 0, 0, 1, UInt8(ascii: "p")])
        #expect(S.encode(.optionNegotiation(version: 6, actions: [.addHeaders, .changeBody], steps: [.noData]))
            == [0, 0, 0, 13, UInt8(ascii: "O")] + S.u32(6) + S.u32(3) + S.u32(0x200))
        // The macro lists follow as libmilter's smfi_setsymlist sends them: stage, names, NUL.
        #expect(S.encode(.optionNegotiation(version: 6, actions: [.setSymbolList], steps: [],
                                            macros: [.init(.connect, "{daemon_addr} j"), .init(.endOfMessage, "i")]))
            == [0, 0, 0, 39, UInt8(ascii: "O")] + S.u32(6) + S.u32(0x100) + S.u32(0)
            + S.u32(0) + S.str0("{daemon_addr} j") + S.u32(5) + S.str0("i"))
        #expect(S.encode(.replyCode("550 5.7.1 no")) == [0, 0, 0, 14, UInt8(ascii: "y")] + S.str0("550 5.7.1 no"))
        #expect(S.encode(.addHeader(name: "X-A", value: "b")) == [0, 0, 0, 7, UInt8(ascii: "h")] + S.str0("X-A", "b"))
        #expect(S.encode(.changeHeader(index: 1, name: "X", value: "")) == [0, 0, 0, 8, UInt8(ascii: "m")] + S.u32(1) + S.str0("X", ""))
        #expect(S.encode(.replaceBody(Array("hi\r\n".utf8))) == [0, 0, 0, 5, UInt8(ascii: "b")] + Array("hi\r\n".utf8))
    }

    /// The decoder in a pipeline: a bad packet is an error the handler sees (and closes on).
    @Test func pipelineReportsOversizedPacket() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MilterCommandDecoder(maxPacketSize: 100)))
        #expect(throws: MilterProtocolError.self) {
            try channel.writeInbound(S.buffer(S.packet("B", [UInt8](repeating: 0, count: 200))))
        }
        _ = try? channel.finish()
    }
}
