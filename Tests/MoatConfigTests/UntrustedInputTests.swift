import Testing
@testable import MoatConfig

@Suite struct PeerNumberTests {
    @Test func decimal() {
        #expect(PeerNumber.decimal("0", max: 100) == .value(0))
        #expect(PeerNumber.decimal("100", max: 100) == .value(100))
        #expect(PeerNumber.decimal("0100", max: 100) == .tooLarge, "more digits than the bound needs")
        #expect(PeerNumber.decimal("101", max: 100) == .tooLarge)
        #expect(PeerNumber.decimal("99999999999999999999", max: Int.max) == .tooLarge)
        #expect(PeerNumber.decimal("9223372036854775807", max: Int.max) == .value(Int.max))
        #expect(PeerNumber.decimal("9223372036854775808", max: Int.max) == .tooLarge)
        for bad in ["", "+5", "-0", "-5", " 5", "5 ", "0x10", "5a", "٥", "1_000", "99999999999999999999x"] {
            #expect(PeerNumber.decimal(bad, max: Int.max) == .invalid, "\(bad)")
        }
    }

    @Test func hex() {
        #expect(PeerNumber.hex("ff", max: 255) == .value(255))
        #expect(PeerNumber.hex("FF", max: 1000) == .value(255))
        #expect(PeerNumber.hex("7fffffffffffffff", max: Int.max) == .value(Int.max))
        #expect(PeerNumber.hex("7fffffffffffffff", max: 512 << 20) == .tooLarge)
        #expect(PeerNumber.hex("ffffffffffffffffff", max: Int.max) == .tooLarge)
        #expect(PeerNumber.hex(String(repeating: "0", count: 40) + "1", max: Int.max) == .tooLarge)
        for bad in ["", "+3", "-3", "0x3", "g"] { #expect(PeerNumber.hex(bad, max: Int.max) == .invalid, "\(bad)") }
    }
}

@Suite struct LogTextTests {
    @Test func controlCharactersAreEscaped() {
        #expect(LogText.escape("a\nverdict pass\r\n") == #"a\nverdict pass\r\n"#)
        #expect(LogText.escape("x\u{0}\u{1B}[2J\u{7}\t") == #"x\0\e[2J\x07\t"#)
        #expect(LogText.escape("\u{85}\u{9B}\u{7F}\u{2028}\u{2029}\u{202E}\u{2066}\u{200F}\u{FEFF}")
                == #"\u{85}\u{9B}\u{7F}\u{2028}\u{2029}\u{202E}\u{2066}\u{200F}\u{FEFF}"#)
        #expect(LogText.escape("Grüße, 日本 <a@b> \\ ${jndi:x}") == "Grüße, 日本 <a@b> \\ ${jndi:x}")
    }

    @Test func lengthIsCappedAndEscapingTwiceChangesNothing() {
        let long = String(repeating: "x", count: 600)
        #expect(LogText.escape(long) == String(repeating: "x", count: 512) + "…[+88 chars]")
        let once = LogText.escape("a\nb\u{1B}c\u{2028}")
        #expect(LogText.escape(once) == once)
        #expect(!once.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.value == 0x2028 })
    }
}
