import NIOCore

/// SMTP is line by line: the bytes of each side are cut into `MailLine`s here, and each line
/// goes to `clientLine`/`serverLine`.
extension SMTPRelaySession {
    public mutating func clientInput(_ bytes: ByteBuffer) -> [RelayAction] { lines(bytes, from: .client) }
    public mutating func serverInput(_ bytes: ByteBuffer) -> [RelayAction] { lines(bytes, from: .server) }

    private mutating func lines(_ bytes: ByteBuffer, from side: RelaySide) -> [RelayAction] {
        // The decoder leaves `self` while it runs, so that each line can change the session.
        var decoder = side == .client ? clientLines : serverLines
        if side == .client { clientLines = Self.newDecoder() } else { serverLines = Self.newDecoder() }
        var actions: [RelayAction] = []
        var tlsStarts = false
        do {
            try decoder.process(buffer: bytes) { line in
                guard !tlsStarts else { return }
                let produced = side == .client ? clientLine(line) : serverLine(line)
                actions += produced
                tlsStarts = produced.contains(.startTLS)
            }
        } catch {
            return [.log(.warning, "line decoding failed: \(error)"), .close]
        }
        if tlsStarts {
            // Bytes that came with the server's 220 or after the client's STARTTLS, in
            // plaintext: injected, never relayed (CVE-2011-0411, both directions). Both
            // decoders start empty.
            clientLines = Self.newDecoder()
            serverLines = Self.newDecoder()
        } else if side == .client {
            clientLines = decoder
        } else {
            serverLines = decoder
        }
        return actions
    }

    private static func newDecoder() -> NIOSingleStepByteToMessageProcessor<MailLineDecoder> {
        NIOSingleStepByteToMessageProcessor(MailLineDecoder())
    }
}
