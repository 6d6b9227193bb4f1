// libFuzzer entry for SPF (Sources/SenderAuth/SPF) and the blocklist zone syntax: the input is
// published as example.com's TXT record and evaluated for a client against a small table of
// answers. A record that does not parse is a permerror (or none, when it is no SPF record at
// all); any record ends within the RFC's limits with one of the seven results.
import DNS
import Dispatch

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    var parses = true
    do { _ = try SPFRecord(parsing: text) } catch { parses = false }
    _ = try? BlocklistZone.parseList(text)

    var table = DNSTable()
    table.set("example.com", .txt, DNSAnswer(.records([.txt([bytes])])))
    table.addTXT("inc.example.com", "v=spf1 a mx ptr exists:%{i}.e.example.com ~all")
    table.add("example.com", .a, .a([192, 0, 2, 1]))
    table.add("example.com", .mx, .mx(preference: 1, exchange: "mx.example.com"))
    table.add("mx.example.com", .a, .a([192, 0, 2, 2]))
    table.add("1.2.0.192.in-addr.arpa", .ptr, .ptr("example.com"))
    table.set("timeout.example.com", .txt, DNSAnswer(.temporaryFailure("timed out")))
    let checker = SPFChecker(lookup: table)
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: SPFCheck?
    Task {
        result = await checker.check(ip: bytes.count % 2 == 0 ? "192.0.2.1" : "2001:db8::1", sender: "user@example.com", helo: "h.example.com")
        done.signal()
    }
    done.wait()
    guard let result else { fatalError("no result") }
    if !parses {
        let expected: SPFResult = SPFRecord.isSPF(bytes) ? .permerror : .none
        precondition(result.result == expected, "a record that does not parse gave \(result.result)")
    }
    return 0
}
