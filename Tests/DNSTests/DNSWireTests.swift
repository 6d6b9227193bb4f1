import Testing
@testable import DNS

@Suite struct DNSWireTests {
    static func name(_ labels: [String]) -> [UInt8] {
        labels.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    @Test func everyTypeDecodes() throws {
        #expect(try DNSWire.decode(.a, rdata: [192, 0, 2, 1]) == .a([192, 0, 2, 1]))
        #expect(try DNSWire.decode(.aaaa, rdata: [UInt8](repeating: 1, count: 16)) == .aaaa([UInt8](repeating: 1, count: 16)))
        #expect(try DNSWire.decode(.txt, rdata: [2, 0x61, 0x62, 0, 1, 0x63]) == .txt([[0x61, 0x62], [], [0x63]]))
        #expect(try DNSWire.decode(.mx, rdata: [0, 10] + Self.name(["mx", "example", "com"])) == .mx(preference: 10, exchange: "mx.example.com"))
        #expect(try DNSWire.decode(.mx, rdata: [0, 0, 0]) == .mx(preference: 0, exchange: ""))
        #expect(try DNSWire.decode(.ptr, rdata: Self.name(["host", "example"])) == .ptr("host.example"))
        #expect(try DNSWire.decode(.cname, rdata: Self.name(["www", "example"])) == .cname("www.example"))
        #expect(try DNSWire.decode(.tlsa, rdata: [3, 1, 1, 0xaa, 0xbb]) == .tlsa(usage: 3, selector: 1, matchingType: 1, data: [0xaa, 0xbb]))
    }

    @Test func shortLongAndMalformedRdataAreErrors() {
        #expect(throws: DNSWireError.truncated(.a)) { try DNSWire.decode(.a, rdata: [1, 2, 3]) }
        #expect(throws: DNSWireError.trailingBytes(.a)) { try DNSWire.decode(.a, rdata: [1, 2, 3, 4, 5]) }
        #expect(throws: DNSWireError.truncated(.txt)) { try DNSWire.decode(.txt, rdata: []) }
        #expect(throws: DNSWireError.truncated(.txt)) { try DNSWire.decode(.txt, rdata: [5, 0x61]) }
        #expect(throws: DNSWireError.truncated(.tlsa)) { try DNSWire.decode(.tlsa, rdata: [3, 1]) }
        #expect(throws: DNSWireError.self) { try DNSWire.decode(.ptr, rdata: [3, 0x61, 0x62]) }
        // A compression pointer has no place in rdata handed over uncompressed.
        #expect(throws: DNSWireError.self) { try DNSWire.decode(.cname, rdata: [0xc0, 0x0c]) }
        // 256 octets of name.
        let long = [UInt8]((0..<4).flatMap { _ in [63] + [UInt8](repeating: 0x61, count: 63) }) + [0]
        #expect(throws: DNSWireError.self) { try DNSWire.decode(.ptr, rdata: long) }
        #expect(throws: DNSWireError.trailingBytes(.ptr)) { try DNSWire.decode(.ptr, rdata: [0, 0]) }
    }

    @Test func labelBytesThatAreSyntaxAreEscaped() throws {
        let rdata: [UInt8] = [5, 0x61, 0x2e, 0x62, 0x20, 0x5c, 3, 0x63, 0x6f, 0x6d, 0]
        #expect(try DNSWire.decode(.ptr, rdata: rdata) == .ptr(#"a\046b\032\092.com"#))
    }

    @Test func queryNamesAreEscapedOrRefused() {
        #expect(DNSQueryName.presentation("Example.COM.") == "Example.COM.")
        #expect(DNSQueryName.presentation("a b.example") == #"a\032b.example."#)
        #expect(DNSQueryName.presentation(#"x\y"z.example"#) == #"x\092y\034z.example."#)
        #expect(DNSQueryName.presentation("a..example") == nil)
        #expect(DNSQueryName.presentation("") == nil)
        #expect(DNSQueryName.presentation(String(repeating: "a", count: 64) + ".example") == nil)
        #expect(DNSQueryName.presentation(String(repeating: "abcdefg.", count: 32) + "example") == nil)
    }
}
