// libFuzzer entry for the configuration loader and editor: any text loads or fails with
// errors that name a line; a loaded file survives a no-op round trip byte for byte.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let config = try ConfigLoader().load(text: text, file: "fuzz.ini")
        precondition(config.document.text == text, "round trip differs")
        _ = try? config.applying(.add("ru"), to: "MailD.ReportLanguages", loader: ConfigLoader())
    } catch {
        for e in error.errors where e.code != .unreadableFile { precondition(e.line != nil || e.parameter != nil) }
    }
    return 0
}
