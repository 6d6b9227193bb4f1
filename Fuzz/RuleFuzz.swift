// libFuzzer entry for the rule language: any text compiles or fails with a column inside it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let rules = try RuleSet.compile([text], name: "fuzz", readFile: { _ in "" })
        _ = rules.evaluate(MessageFacts(subject: text, bodyText: text))
    } catch {
        precondition(error.column >= 1 && error.column <= text.count + 1, "column \(error.column) outside the rule")
    }
    return 0
}
