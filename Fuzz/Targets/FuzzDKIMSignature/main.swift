// DKIM-Signature / ARC tag lists and whole messages through the DKIM and ARC verifiers: any
// bytes give a result, tag lists keep their bounds, value ranges stay inside the input, and the
// verifiers report at most `maxSignatures` checks.
import DNS
import Dispatch
import FuzzKit
@testable import SenderAuth

let table: DNSTable = {
    var t = DNSTable()
    t.addTXT("s._domainkey.example.com", "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    t.addTXT("r._domainkey.example.com", "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB")
    return t
}()

/// Runs an async check to its end (the verifiers only await the in-memory table).
final class Box<T>: @unchecked Sendable { var value: T? }

func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = Box<T>()
    let done = DispatchSemaphore(value: 0)
    Task { box.value = await body(); done.signal() }
    done.wait()
    return box.value!
}

runFuzzer { input in
    var reader = FuzzInput(input)
    let mode = reader.byte() % 2
    let payload = Array(reader.rest())
    if let tags = try? TagList.parse(payload[...]) {
        invariant(tags.tags.count <= TagList.maxTags, "\(tags.tags.count) tags")
        invariant(Set(tags.tags.map(\.name)).count == tags.tags.count, "duplicate names")
        for tag in tags.tags {
            invariant(tag.rawValueRange.lowerBound >= 0 && tag.rawValueRange.upperBound <= payload.count, "range outside")
            invariant(!tag.value.contains("\r") && !tag.value.contains("\n"), "line break in value")
        }
    }
    let message: [UInt8]
    if mode == 0 {
        // The bytes as the value of a signature over a small message.
        message = Array("DKIM-Signature:".utf8) + payload + Array("\r\nFrom: a@example.com\r\nSubject: x\r\n\r\nbody\r\n".utf8)
    } else {
        message = payload
    }
    let checks = wait { await DKIMVerifier(lookup: table, now: { 1_700_000_000 }).verify(message: message) }
    invariant(checks.count <= 8, "\(checks.count) checks")
    let arc = wait { await ARCVerifier(lookup: table, now: { 1_700_000_000 }).verify(message: message) }
    invariant(arc.instances <= 50, "\(arc.instances) ARC instances")
}
