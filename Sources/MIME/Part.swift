/// How a part's body is structured.
public enum PartKind: Hashable, Sendable {
    /// A body with no parsed structure (it may still have `.uuencodedBlock` children).
    case leaf
    /// A multipart whose body was split into `children`.
    case multipart
    /// A message/rfc822 (or message/global) part; its body is `embeddedMessage`.
    case message
    /// A `begin ... end` uuencoded block found inside a text leaf. It has no header;
    /// `bodyRange` covers the block from `begin` to `end`.
    case uuencodedBlock
}

/// One entity of the MIME tree. Ranges index into the original message bytes, so the
/// tree is small and the writer can copy everything it does not change verbatim.
public struct Part: Hashable, Sendable {
    public var path: PartPath
    public var kind: PartKind
    /// Header fields in order. Empty for uuencoded blocks and for bodies without a header.
    public var headers: [HeaderField]
    /// Parsed Content-Type, or the RFC default (`text/plain`, `message/rfc822` in a digest).
    public var contentType: ContentType
    /// False when `contentType` is a default because the header was absent or unparsable.
    public var hasExplicitContentType: Bool
    public var disposition: ContentDisposition?
    /// Content-Disposition `filename`, else Content-Type `name` (RFC 2231/2047 decoded),
    /// or the name from a uuencode `begin` line.
    public var filename: String?
    public var transferEncoding: TransferEncoding
    /// Header block including the empty separator line (empty for uuencoded blocks).
    public var headerRange: Range<Int>
    public var bodyRange: Range<Int>
    /// For a child of a multipart: the delimiter line that opens it, with the line
    /// break before it. Removing a part removes this range too.
    public var delimiterRange: Range<Int>?
    /// Multipart text before the first delimiter / after the close delimiter.
    public var preambleRange: Range<Int>?
    public var epilogueRange: Range<Int>?
    public var children: [Part]
    // An array, not an Optional, because a struct cannot contain itself directly.
    private var embedded: [Part]
    public var problems: [MIMEProblem]
    /// Size of the transfer-decoded body when `MIMELimits.validateBodies` was on
    /// (nil for containers and when validation was off).
    public var decodedSize: Int?

    public init(
        path: PartPath, kind: PartKind = .leaf, headers: [HeaderField] = [],
        contentType: ContentType = .textPlain, hasExplicitContentType: Bool = false,
        disposition: ContentDisposition? = nil, filename: String? = nil,
        transferEncoding: TransferEncoding = .sevenBit,
        headerRange: Range<Int>, bodyRange: Range<Int>, delimiterRange: Range<Int>? = nil,
        children: [Part] = [], embeddedMessage: Part? = nil, problems: [MIMEProblem] = []
    ) {
        self.path = path
        self.kind = kind
        self.headers = headers
        self.contentType = contentType
        self.hasExplicitContentType = hasExplicitContentType
        self.disposition = disposition
        self.filename = filename
        self.transferEncoding = transferEncoding
        self.headerRange = headerRange
        self.bodyRange = bodyRange
        self.delimiterRange = delimiterRange
        self.children = children
        self.embedded = embeddedMessage.map { [$0] } ?? []
        self.problems = problems
    }

    /// The message inside a message/rfc822 part (path `self.path.0`).
    public var embeddedMessage: Part? {
        get { embedded.first }
        set { embedded = newValue.map { [$0] } ?? [] }
    }

    /// Header and body: the bytes this entity occupies in the original message.
    public var range: Range<Int> { headerRange.lowerBound..<Swift.max(headerRange.lowerBound, bodyRange.upperBound) }
    public var bodySize: Int { bodyRange.count }
    public var mimeType: String { contentType.mimeType }

    /// A part that is scanned as content: leaves and uuencoded blocks.
    public var isLeaf: Bool { kind == .leaf || kind == .uuencodedBlock }
    /// Declared as an attachment or carrying a file name.
    public var isAttachment: Bool { disposition?.isAttachment == true || filename != nil }

    /// First field with this name (case-insensitive).
    public func header(_ name: String) -> HeaderField? {
        let key = name.lowercased()
        return headers.first { $0.hasName(key) }
    }

    public func headers(named name: String) -> [HeaderField] {
        let key = name.lowercased()
        return headers.filter { $0.hasName(key) }
    }

    /// Direct sub-parts in document order: children, then the embedded message.
    public var subparts: [Part] { children + embedded }

    /// Visits this part and all descendants in document order.
    public func walk(_ visit: (Part) throws -> Void) rethrows {
        try visit(self)
        for child in children { try child.walk(visit) }
        for message in embedded { try message.walk(visit) }
    }

    public var allParts: [Part] {
        var out: [Part] = []
        walk { out.append($0) }
        return out
    }

    /// Parts to scan as content, in document order.
    public var leaves: [Part] { allParts.filter(\.isLeaf) }

    public func part(at path: PartPath) -> Part? {
        guard path.components.starts(with: self.path.components) else { return nil }
        var current = self
        for index in path.components.dropFirst(self.path.components.count) {
            if index == 0 {
                guard let m = current.embeddedMessage else { return nil }
                current = m
            } else {
                guard index - 1 < current.children.count else { return nil }
                current = current.children[index - 1]
            }
        }
        return current
    }

    /// Problems of this part and all descendants with their paths.
    public var allProblems: [LocatedProblem] {
        var out: [LocatedProblem] = []
        walk { part in out += part.problems.map { LocatedProblem(path: part.path, problem: $0) } }
        return out
    }

    /// Transfer-decoded body (base64, quoted-printable, uuencode; others as is).
    /// Containers return their raw body.
    public func decodedBody(in message: [UInt8]) -> [UInt8] {
        var problems: [MIMEProblem] = []
        return decodedBody(in: message, problems: &problems)
    }

    public func decodedBody(in message: [UInt8], problems: inout [MIMEProblem]) -> [UInt8] {
        let lo = Swift.min(Swift.max(0, bodyRange.lowerBound), message.count)
        let hi = Swift.min(Swift.max(lo, bodyRange.upperBound), message.count)
        let body = message[lo..<hi]
        guard isLeaf else { return Array(body) }
        return BodyDecoder.decode(body, encoding: transferEncoding, problems: &problems)
    }
}
