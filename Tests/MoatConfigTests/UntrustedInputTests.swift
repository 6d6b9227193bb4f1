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

    /// Printable ASCII is returned as it is (the fast path), up to the cap and not beyond.
    @Test func printableASCIIPassesUntilTheCap() {
        let ascii = String((0x20...0x7E).map { Character(Unicode.Scalar(UInt8($0))) })
        #expect(LogText.escape(ascii) == ascii)
        #expect(LogText.escape(String(repeating: "y", count: 512)) == String(repeating: "y", count: 512))
        #expect(LogText.escape(String(repeating: "y", count: 513)) == String(repeating: "y", count: 512) + "…[+1 chars]")
        #expect(LogText.escape("ok\u{7F}") == #"ok\u{7F}"#, "DEL is not printable")
        #expect(LogText.escape("ok"[...]) == "ok")
    }
}

@Suite struct DecimalTextTests {
    @Test func fixedPointAsPrintfWouldWriteIt() {
        #expect(DecimalText.fixed(7.126, places: 2) == "7.13")
        #expect(DecimalText.fixed(5, places: 1) == "5.0")
        #expect(DecimalText.fixed(0, places: 2) == "0.00")
        #expect(DecimalText.fixed(-1.05, places: 2) == "-1.05")
        #expect(DecimalText.fixed(-0.04, places: 1) == "0.0", "no negative zero")
        #expect(DecimalText.fixed(-2.5, places: 1) == "-2.5")
        #expect(DecimalText.fixed(0.049, places: 1) == "0.0")
        #expect(DecimalText.fixed(1000, places: 1) == "1000.0")
        #expect(DecimalText.fixed(3.14159, places: 0) == "3")
        #expect(DecimalText.fixed(.infinity, places: 2) == "inf")
        #expect(DecimalText.fixed(1e300, places: 2) == "1e+300")
        #expect(DecimalText.padded(1.5, places: 1, width: 4) == " 1.5")
        #expect(DecimalText.padded(-10.25, places: 1, width: 4) == "-10.2", "an exact tie goes to even, as printf")
    }
}
