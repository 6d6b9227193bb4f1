/// Decoded parameters of a structured header, in order of first appearance.
public struct MIMEParameters: Hashable, Sendable, Sequence {
    public struct Parameter: Hashable, Sendable {
        /// Lowercased name without RFC 2231 `*`/section suffixes.
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var entries: [Parameter]

    public init(_ entries: [Parameter] = []) { self.entries = entries }

    /// Case-insensitive lookup.
    public subscript(_ name: String) -> String? {
        let key = name.lowercased()
        return entries.first { $0.name == key }?.value
    }

    public func makeIterator() -> IndexingIterator<[Parameter]> { entries.makeIterator() }
}

/// Content-Type: lowercased `type/subtype` and parameters.
public struct ContentType: Hashable, Sendable, CustomStringConvertible {
    public var type: String
    public var subtype: String
    public var parameters: MIMEParameters

    public init(type: String, subtype: String, parameters: MIMEParameters = MIMEParameters()) {
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        self.parameters = parameters
    }

    /// `type/subtype`, lowercased.
    public var mimeType: String { "\(type)/\(subtype)" }
    public var description: String { mimeType }

    public var isMultipart: Bool { type == "multipart" }
    public var isText: Bool { type == "text" }
    /// Types whose body is itself a message (parsed as a nested message).
    public var isEncapsulatedMessage: Bool {
        type == "message" && (subtype == "rfc822" || subtype == "global" || subtype == "news")
    }
    public var charset: String? { parameters["charset"] }
    public var boundary: String? { parameters["boundary"] }
    public var name: String? { parameters["name"] }

    /// RFC 2045 default.
    public static let textPlain = ContentType(type: "text", subtype: "plain", parameters: MIMEParameters([.init(name: "charset", value: "us-ascii")]))
    /// RFC 2046 default inside multipart/digest.
    public static let messageRFC822 = ContentType(type: "message", subtype: "rfc822")
    public static let applicationOctetStream = ContentType(type: "application", subtype: "octet-stream")

    /// Parses an unfolded Content-Type value; nil when there is no `type/subtype`.
    /// Also returns the raw (undecoded) boundary bytes, which must be matched byte for byte.
    static func parse(_ value: [UInt8], problems: inout [MIMEProblem]) -> (ContentType, rawBoundary: [UInt8]?)? {
        let (primary, rest) = splitPrimary(value[...])
        guard let slash = primary.firstIndex(of: 0x2F) else { return nil }
        let type = ASCII.trimmed(primary[primary.startIndex..<slash])
        let subtype = ASCII.trimmed(primary[(slash + 1)...])
        guard !type.isEmpty, !subtype.isEmpty, isToken(type), isToken(subtype) else { return nil }
        let raw = RFC2231.split(rest)
        let params = RFC2231.assemble(raw, problems: &problems)
        let boundary = raw.first { $0.name == "boundary" }?.value
        return (ContentType(type: ASCII.lowercased(type), subtype: ASCII.lowercased(subtype), parameters: MIMEParameters(params)), boundary)
    }

    /// The primary value ends at `;`, or at whitespace/comment when a sloppy sender
    /// left out the semicolon (`multipart/mixed boundary="x"`).
    static func splitPrimary(_ v: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        var p = v.startIndex
        while p < v.endIndex && ASCII.isWhitespace(v[p]) { p += 1 }
        let start = p
        while p < v.endIndex && v[p] != ASCII.semicolon && !ASCII.isWhitespace(v[p]) && v[p] != 0x28 { p += 1 }
        var restStart = p
        // Skip a comment directly after the primary value.
        var q = p
        while q < v.endIndex && ASCII.isWhitespace(v[q]) { q += 1 }
        if q < v.endIndex && v[q] == 0x28 {
            if let close = v[q...].firstIndex(of: 0x29) { restStart = close + 1 } else { restStart = v.endIndex }
        }
        return (v[start..<p], v[restStart...])
    }

    private static func isToken(_ b: ArraySlice<UInt8>) -> Bool {
        b.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x2F && $0 != 0x3B && $0 != 0x22 }
    }
}

/// Content-Disposition: lowercased kind (`inline`, `attachment`, ...) and parameters.
public struct ContentDisposition: Hashable, Sendable {
    public var kind: String
    public var parameters: MIMEParameters

    public init(kind: String, parameters: MIMEParameters = MIMEParameters()) {
        self.kind = kind.lowercased()
        self.parameters = parameters
    }

    public var isAttachment: Bool { kind == "attachment" }
    public var filename: String? { parameters["filename"] }

    static func parse(_ value: [UInt8], problems: inout [MIMEProblem]) -> ContentDisposition {
        var (primary, rest) = ContentType.splitPrimary(value[...])
        if primary.contains(ASCII.equals) {
            // `Content-Disposition: filename="x"`: no kind, only parameters.
            rest = value[...]
            primary = value[0..<0]
        }
        let params = RFC2231.assemble(RFC2231.split(rest), problems: &problems)
        return ContentDisposition(kind: ASCII.lowercased(ASCII.trimmed(primary)), parameters: MIMEParameters(params))
    }
}
