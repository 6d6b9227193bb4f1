// libFuzzer entry for the DNS rdata decoder (Sources/DNS/DNSWire.swift) and the query-name
// escaping: the first byte picks the record type, the rest is the rdata as a resolver would
// hand it over. Decoding never reads past the rdata; what decodes encodes back to the same
// bytes (A, AAAA, TXT, TLSA) or to a name of at most 255 octets in printable ASCII.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let types = DNSRecordType.allCases
    let type = types[Int(first) % types.count]
    let rdata = Array(bytes.dropFirst())
    if let record = try? DNSWire.decode(type, rdata: rdata) {
        switch record {
        case .a(let value), .aaaa(let value):
            precondition(value == rdata, "address re-encodes differently")
        case .txt(let strings):
            precondition(strings.flatMap { [UInt8($0.count)] + $0 } == rdata, "TXT re-encodes differently")
        case .tlsa(let usage, let selector, let matching, let value):
            precondition([usage, selector, matching] + value == rdata, "TLSA re-encodes differently")
        case .mx(_, let name), .ptr(let name), .cname(let name):
            checkName(name)
        }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let name = DNSQueryName.presentation(text) {
        checkName(name)
        precondition(name.hasSuffix("."), "a query name is absolute")
    }
    return 0
}

func checkName(_ name: String) {
    precondition(name.utf8.allSatisfy { $0 >= 0x21 && $0 < 0x7f }, "name with a byte outside printable ASCII")
    precondition(name.utf8.count <= 255 * 4, "name longer than 255 escaped octets")
}
