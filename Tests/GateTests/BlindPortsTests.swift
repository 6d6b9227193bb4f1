import MoatConfig
import Testing
@testable import Gate

/// Which protected ports the divert leaves to the kernel: those the Gate would only relay blindly.
struct BlindPortsTests {
    static func reasons(_ lines: String, ports: [Int] = [25, 110, 143, 465, 587, 993, 995, 8080]) throws -> [Int: String] {
        let values = try ConfigLoader().load(text: "[LinuxFirewall]\n" + lines).values
        var reasons: [Int: String] = [:]
        for port in ports { reasons[port] = BlindPorts.reason(port: port, values: values) }
        return reasons
    }

    @Test func byDefaultImplicitTLSAndUnknownPortsAreBlind() throws {
        let reasons = try Self.reasons("")
        #expect(Set(reasons.keys) == [465, 993, 995, 8080], "\(reasons)")
        #expect(reasons[465]?.contains("UnwrapSsl = No") == true)
        #expect(reasons[8080]?.contains("UnrecognizedProtocol = Relay") == true)
    }

    @Test func unwrappingKeepsImplicitTLSDiverted() throws {
        #expect(try Self.reasons("UnwrapSsl = Yes\n").keys.sorted() == [8080])
        // A rule may switch unwrapping on per connection: the ports stay diverted.
        let rule = #"RuleSet = sni_host match "\.example$" : SET unwrap_ssl = yes, SCAN_MAIL"# + "\n"
        #expect(try Self.reasons(rule).keys.sorted() == [8080])
    }

    @Test func protocolsNotInspectedAreBlind() throws {
        let reasons = try Self.reasons("UnwrapSsl = Yes\nInspectSmtp = Off\nInspectImap = Off\n")
        #expect(reasons.keys.sorted() == [25, 143, 465, 587, 993, 8080], "\(reasons)")
        #expect(reasons[25]?.contains("InspectSmtp = Off") == true)
        #expect(reasons[993]?.contains("InspectImap = Off") == true)
        #expect(reasons[110] == nil && reasons[995] == nil, "POP3 is still inspected")
    }

    @Test func unknownPortsStayDivertedWhenUnrecognizedProtocolIsClose() throws {
        #expect(try Self.reasons("UnrecognizedProtocol = Close\nUnwrapSsl = Yes\n").isEmpty)
    }
}
