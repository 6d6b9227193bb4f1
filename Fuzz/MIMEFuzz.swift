// libFuzzer entry for the MIME parser: every input parses, re-emits byte-identical, and every
// leaf decodes, without a crash. Built by Fuzz/run.sh with -sanitize=fuzzer,address.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = MIMELimits()
    limits.maxParts = 500
    let message = MIMEMessage(bytes: bytes, limits: limits)
    precondition(message.emit() == bytes, "re-emit differs from the input")
    for leaf in message.leaves { _ = message.decodedBody(of: leaf) }
    return 0
}
