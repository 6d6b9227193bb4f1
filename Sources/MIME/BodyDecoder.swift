/// Streaming transfer decoder for any `TransferEncoding`, so callers that spool large
/// bodies can decode chunk by chunk with bounded memory.
public struct BodyDecoder: Sendable {
    private enum Inner: Sendable {
        case identity
        case base64(Base64Decoder)
        case quotedPrintable(QuotedPrintableDecoder)
        case uuencode(UUDecoder)
    }

    private var inner: Inner

    public init(encoding: TransferEncoding) {
        switch encoding {
        case .base64: inner = .base64(Base64Decoder())
        case .quotedPrintable: inner = .quotedPrintable(QuotedPrintableDecoder())
        case .uuencode: inner = .uuencode(UUDecoder())
        default: inner = .identity
        }
    }

    public mutating func decode(_ chunk: ArraySlice<UInt8>, into output: inout [UInt8]) {
        switch inner {
        case .identity: output += chunk
        case .base64(var d): inner = .identity; d.decode(chunk, into: &output); inner = .base64(d)
        case .quotedPrintable(var d): inner = .identity; d.decode(chunk, into: &output); inner = .quotedPrintable(d)
        case .uuencode(var d): inner = .identity; d.decode(chunk, into: &output); inner = .uuencode(d)
        }
    }

    public mutating func finish(into output: inout [UInt8]) {
        switch inner {
        case .identity: break
        case .base64(var d): inner = .identity; d.finish(into: &output); inner = .base64(d)
        case .quotedPrintable(var d): inner = .identity; d.finish(into: &output); inner = .quotedPrintable(d)
        case .uuencode(var d): inner = .identity; d.finish(into: &output); inner = .uuencode(d)
        }
    }

    public var problems: [MIMEProblem] {
        switch inner {
        case .identity: []
        case .base64(let d): d.problems
        case .quotedPrintable(let d): d.problems
        case .uuencode(let d): d.problems
        }
    }

    /// The uuencode `begin` line's file name, if any.
    public var fileName: String? {
        if case .uuencode(let d) = inner { return d.fileName }
        return nil
    }

    static func decode(_ body: ArraySlice<UInt8>, encoding: TransferEncoding, problems: inout [MIMEProblem]) -> [UInt8] {
        if encoding.isIdentity { return Array(body) }
        var decoder = BodyDecoder(encoding: encoding)
        var out: [UInt8] = []
        decoder.decode(body, into: &out)
        decoder.finish(into: &out)
        for p in decoder.problems { problems.record(p) }
        return out
    }

    /// Decodes in fixed-size chunks, discarding output, to learn problems and size
    /// without holding the decoded body in memory.
    static func validate(_ body: ArraySlice<UInt8>, encoding: TransferEncoding) -> (size: Int, problems: [MIMEProblem]) {
        if encoding.isIdentity { return (body.count, []) }
        var decoder = BodyDecoder(encoding: encoding)
        var scratch: [UInt8] = []
        scratch.reserveCapacity(48 * 1024)
        var size = 0
        var p = body.startIndex
        while p < body.endIndex {
            let q = Swift.min(p + 64 * 1024, body.endIndex)
            decoder.decode(body[p..<q], into: &scratch)
            size += scratch.count
            scratch.removeAll(keepingCapacity: true)
            p = q
        }
        decoder.finish(into: &scratch)
        size += scratch.count
        return (size, decoder.problems)
    }
}
