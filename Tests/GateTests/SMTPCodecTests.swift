import NIOCore
import NIOTestUtils
import Testing
@testable import Gate

@Suite struct SMTPCodecTests {
    @Test func lineDecoderGivesTheSameLinesOnEverySplit() throws {
        let dialogue = "EHLO client.example.com\r\nMAIL FROM:<a@example.com> BODY=8BITMIME\r\nbare lf line\n\r\n.\r\n"
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                (dialogue, [
                    MailLine("EHLO client.example.com\r\n"), MailLine("MAIL FROM:<a@example.com> BODY=8BITMIME\r\n"),
                    MailLine("bare lf line\n"), MailLine("\r\n"), MailLine(".\r\n"),
                ]),
                ("250-mx\r\n250 PIPELINING\r\n", [MailLine("250-mx\r\n"), MailLine("250 PIPELINING\r\n")]),
            ],
            decoderFactory: { MailLineDecoder() })
    }

    @Test func longLinesComeInBoundedPiecesOnEverySplit() throws {
        // "0123456789\r\n" with an 8-byte limit: the LF is past the window however the bytes arrive.
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("0123456789\r\nab\r\n", [MailLine("01234567", isComplete: false), MailLine("89\r\n"), MailLine("ab\r\n")]),
                ("1234567\n", [MailLine("1234567\n")]),
                ("12345678\n", [MailLine("12345678", isComplete: false), MailLine("\n")]),
            ],
            decoderFactory: { MailLineDecoder(maximumLength: 8) })
    }

    @Test func binaryBytesPassUnchanged() throws {
        var bytes = ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x00, 0xff, 0x0a, 0x00, 0x0d, 0x0a])
        var decoder = MailLineDecoder()
        let first = try decoder.decode(buffer: &bytes)
        let second = try decoder.decode(buffer: &bytes)
        #expect(first?.bytes == ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x00, 0xff, 0x0a]))
        #expect(second?.bytes == ByteBuffer(bytes: [0x00, 0x0d, 0x0a]))
    }

    @Test func dotStuffingRoundTrips() {
        let message = Array("Subject: x\r\n\r\n.hidden\r\n..two\r\nplain\r\n.\r\nend".utf8)
        let stuffed = String(buffer: DotStuffer.stuffed(message))
        #expect(stuffed == "Subject: x\r\n\r\n..hidden\r\n...two\r\nplain\r\n..\r\nend\r\n.\r\n")
        // The same bytes whatever the chunking (a spooled message is read in pieces).
        for size in 1...7 {
            var out = ByteBuffer()
            var stuffer = DotStuffer()
            var start = 0
            while start < message.count {
                let end = min(start + size, message.count)
                stuffer.stuff(Array(message[start..<end]), into: &out)
                start = end
            }
            stuffer.finish(into: &out)
            #expect(String(buffer: out) == stuffed, "chunk size \(size)")
        }
        #expect(String(buffer: DotStuffer.stuffed([])) == ".\r\n")
    }

    @Test func stuffThenUnstuffGivesBackTheMessage() {
        let message = "From: a\r\n\r\n.\r\n..\r\n.x\r\nlast line\r\n"
        var t = Transcript.ready()
        t.client("MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n")
        t.server("250 ok\r\n250 ok\r\n")
        t.client(String(buffer: DotStuffer.stuffed(Array(message.utf8))))
        #expect(t.body == message)
        #expect(t.checks.count == 1)
    }

    @Test func replyCodes() {
        #expect(SMTPRelaySession.replyCode(MailLine("250 ok\r\n")) == 250)
        #expect(SMTPRelaySession.replyCode(MailLine("250-ok\r\n")) == 250)
        #expect(SMTPRelaySession.replyCode(MailLine("250\r\n")) == 250)
        #expect(SMTPRelaySession.replyCode(MailLine("2500\r\n")) == nil)
        #expect(SMTPRelaySession.replyCode(MailLine("+OK POP3\r\n")) == nil)
        #expect(SMTPRelaySession.replyCode(MailLine("* OK IMAP\r\n")) == nil)
        #expect(SMTPRelaySession.replyCode(MailLine("999 x\r\n")) == nil)
    }
}
