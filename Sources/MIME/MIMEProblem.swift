/// A structural or encoding defect found while parsing. Problems are recorded on the
/// part where they occur and never stop the rest of the message from being parsed:
/// a gateway must still see (and scan) everything it can find in a malformed message.
public enum MIMEProblem: Hashable, Sendable, CustomStringConvertible {
    // Header block
    /// A header line that is neither a field (`name: value`) nor a continuation,
    /// or a continuation line with no field before it.
    case malformedHeader
    /// A physical header line longer than `MIMELimits.maxHeaderLineLength`.
    case headerLineTooLong
    /// The header block is larger than `MIMELimits.maxHeaderBlockSize`; fields beyond
    /// the limit were not stored (their bytes are still part of the header range).
    case headerBlockTooLarge
    /// The body started without an empty line after the header block.
    case missingHeaderBodySeparator
    /// A header that must appear at most once appears several times (lowercased name).
    /// The first occurrence is used, as most MUAs do.
    case duplicateHeader(String)
    /// Content-Type could not be parsed; the RFC 2045 default was assumed.
    case malformedContentType
    /// An RFC 2047 encoded word whose payload could not be decoded cleanly.
    case invalidEncodedWord
    /// A charset this module cannot decode; the bytes were decoded lossily as UTF-8.
    case unsupportedCharset(String)

    // Structure
    /// A multipart entity without a usable `boundary` parameter (treated as a leaf).
    case missingBoundaryParameter
    /// A multipart body in which no delimiter line was found (treated as a leaf).
    case boundaryNotFound
    /// The close delimiter (`--boundary--`) is missing; the last part runs to the end.
    case missingFinalBoundary
    /// More delimiter lines of the same boundary follow the close delimiter. Some
    /// clients show such content, so it is worth flagging as a possible evasion.
    case dataAfterFinalBoundary
    /// Nesting deeper than `MIMELimits.maxDepth`; the content is kept as an opaque leaf.
    case depthLimitExceeded
    /// More than `MIMELimits.maxParts` parts; later parts were not split out.
    case partCountLimitExceeded
    /// A message/rfc822 part with a base64/quoted-printable/uuencode transfer
    /// encoding (forbidden by RFC 2046); it is kept as a leaf whose decoded body is the message.
    case encodedEmbeddedMessage

    // Body
    /// A body line longer than `MIMELimits.maxLineLength` (998 in RFC 5322).
    case lineTooLong
    /// A Content-Transfer-Encoding this module does not know; the body is passed through.
    case unknownTransferEncoding(String)
    /// Base64 with characters outside the alphabet (they were skipped).
    case invalidBase64
    /// Base64 that ends with a single dangling character (6 bits, no full byte).
    case truncatedBase64
    /// Quoted-printable with `=` not followed by two hex digits or a line break.
    case invalidQuotedPrintable
    /// Uuencoded data with malformed lines, or no `begin` line.
    case invalidUUEncode
    /// A uuencoded block without its `end` line.
    case missingUUEncodeEnd

    public var description: String {
        switch self {
        case .malformedHeader: "malformed header line"
        case .headerLineTooLong: "header line too long"
        case .headerBlockTooLarge: "header block too large"
        case .missingHeaderBodySeparator: "missing empty line between header and body"
        case .duplicateHeader(let name): "duplicate \(name) header"
        case .malformedContentType: "malformed Content-Type"
        case .invalidEncodedWord: "invalid RFC 2047 encoded word"
        case .unsupportedCharset(let name): "unsupported charset \(name)"
        case .missingBoundaryParameter: "multipart without boundary parameter"
        case .boundaryNotFound: "multipart boundary not found in body"
        case .missingFinalBoundary: "missing final boundary"
        case .dataAfterFinalBoundary: "delimiter lines after the final boundary"
        case .depthLimitExceeded: "nesting depth limit exceeded"
        case .partCountLimitExceeded: "part count limit exceeded"
        case .encodedEmbeddedMessage: "message/rfc822 with a non-identity transfer encoding"
        case .lineTooLong: "body line too long"
        case .unknownTransferEncoding(let name): "unknown transfer encoding \(name)"
        case .invalidBase64: "invalid base64 characters"
        case .truncatedBase64: "truncated base64"
        case .invalidQuotedPrintable: "invalid quoted-printable escape"
        case .invalidUUEncode: "invalid uuencoded data"
        case .missingUUEncodeEnd: "uuencoded block without end line"
        }
    }
}

/// A problem together with the path of the part it was recorded on.
public struct LocatedProblem: Hashable, Sendable, CustomStringConvertible {
    public var path: PartPath
    public var problem: MIMEProblem

    public init(path: PartPath, problem: MIMEProblem) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

extension Array where Element == MIMEProblem {
    /// Problems are flags, not a log: one entry per kind keeps the list bounded on hostile input.
    mutating func record(_ problem: MIMEProblem) {
        if !contains(problem) { append(problem) }
    }
}
