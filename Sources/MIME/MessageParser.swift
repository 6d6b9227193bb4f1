/// Incremental front end: feed the message in chunks of any size (as a milter or a
/// proxy receives it), then `finish()`.
///
/// The parser keeps the bytes (the tree refers to them by range, and the writer
/// copies from them); it parses once at `finish()`, so every way of splitting the
/// input yields the same tree.
public struct MessageParser: Sendable {
    public let limits: MIMELimits
    private var buffer: [UInt8] = []

    public init(limits: MIMELimits = MIMELimits()) {
        self.limits = limits
    }

    /// Bytes fed so far; a caller can enforce its own message size limit with it.
    public var bufferedByteCount: Int { buffer.count }

    public mutating func feed(_ chunk: ArraySlice<UInt8>) { buffer += chunk }
    public mutating func feed(_ chunk: [UInt8]) { buffer += chunk }
    public mutating func feed(_ chunk: UnsafeRawBufferPointer) { buffer += chunk }

    /// Parses everything fed so far and resets the parser for the next message.
    public mutating func finish() -> MIMEMessage {
        let bytes = buffer
        buffer = []
        return MIMEMessage(bytes: bytes, limits: limits)
    }

    /// One-shot parse of a complete message.
    public static func parse(_ bytes: [UInt8], limits: MIMELimits = MIMELimits()) -> MIMEMessage {
        MIMEMessage(bytes: bytes, limits: limits)
    }
}

/// A parsed message: the original bytes and the part tree that indexes into them.
public struct MIMEMessage: Sendable {
    public let bytes: [UInt8]
    public let root: Part

    public init(bytes: [UInt8], limits: MIMELimits = MIMELimits()) {
        self.bytes = bytes
        var parser = EntityParser(bytes: bytes, limits: limits)
        self.root = parser.parseMessage()
    }

    /// Every part in document order (root first).
    public var allParts: [Part] { root.allParts }
    /// Parts to scan as content (leaves and inline uuencoded blocks), in document order.
    public var leaves: [Part] { root.leaves }
    public var allProblems: [LocatedProblem] { root.allProblems }
    public func part(at path: PartPath) -> Part? { root.part(at: path) }

    /// Header fields of the top-level message.
    public var headers: [HeaderField] { root.headers }

    public func rawHeader(of part: Part) -> ArraySlice<UInt8> { bytes[clamped(part.headerRange)] }
    public func rawBody(of part: Part) -> ArraySlice<UInt8> { bytes[clamped(part.bodyRange)] }

    public func decodedBody(of part: Part) -> [UInt8] { part.decodedBody(in: bytes) }

    /// Calls `body` for every leaf in document order with its decoded content. Leaves
    /// are decoded one at a time, so only one decoded body is held at once.
    public func forEachLeaf(_ body: (Part, [UInt8]) throws -> Void) rethrows {
        for leaf in leaves { try body(leaf, decodedBody(of: leaf)) }
    }

    /// The message inside a message/rfc822 leaf whose body is transfer-encoded
    /// (`MIMEProblem.encodedEmbeddedMessage`), parsed from the decoded body. Its ranges
    /// index into its own `bytes`, so rewrite such a part as a whole. Pass limits with
    /// a reduced `maxDepth` to keep the overall nesting bounded.
    public func decodedEmbeddedMessage(of part: Part, limits: MIMELimits = MIMELimits()) -> MIMEMessage? {
        guard part.isLeaf, part.contentType.isEncapsulatedMessage, !part.transferEncoding.isIdentity else { return nil }
        return MIMEMessage(bytes: decodedBody(of: part), limits: limits)
    }

    /// Text of a text/* leaf in its declared charset (lossy for unsupported charsets);
    /// nil for non-text parts.
    public func text(of part: Part) -> String? {
        guard part.contentType.isText, part.isLeaf else { return nil }
        let body = decodedBody(of: part)
        var problems: [MIMEProblem] = []
        return Charset.decodeLossy(body, charset: part.contentType.charset ?? "us-ascii", problems: &problems)
    }

    /// Re-emits the message with the given parts replaced; see `MessageWriter`.
    public func emit(replacing replacements: [PartPath: Replacement] = [:]) -> [UInt8] {
        MessageWriter.emit(original: bytes, tree: root, replacements: replacements)
    }

    private func clamped(_ r: Range<Int>) -> Range<Int> {
        let lo = Swift.min(Swift.max(0, r.lowerBound), bytes.count)
        return lo..<Swift.min(Swift.max(lo, r.upperBound), bytes.count)
    }
}
