/// Bounds that keep memory and time linear in the input on hostile messages.
/// Exceeding a limit is recorded as a `MIMEProblem`; it never aborts parsing.
public struct MIMELimits: Hashable, Sendable {
    /// Deepest nesting of multiparts and message/rfc822 (root is depth 0). Deeper
    /// containers become opaque leaves. Clamped to `hardMaxDepth` because the parser recurses.
    public var maxDepth: Int
    /// Most parts (including embedded messages and inline uuencoded blocks) in one message.
    public var maxParts: Int
    /// Longest physical header line before `headerLineTooLong` is recorded.
    public var maxHeaderLineLength: Int
    /// Largest header block of one entity whose fields are stored.
    public var maxHeaderBlockSize: Int
    /// Longest body line before `lineTooLong` is recorded (RFC 5322: 998).
    public var maxLineLength: Int
    /// Longest boundary parameter accepted (RFC 2046 says 70; real mail is sloppier).
    public var maxBoundaryLength: Int
    /// Run the transfer decoders over every leaf at parse time, so that encoding
    /// problems and `Part.decodedSize` are known without decoding again.
    public var validateBodies: Bool
    /// Look for `begin NNN name` uuencoded blocks inside text/plain bodies.
    public var detectInlineUUEncode: Bool

    /// Recursion guard: the parser recurses once per nesting level.
    public static let hardMaxDepth = 200

    public init(
        maxDepth: Int = 32,
        maxParts: Int = 10_000,
        maxHeaderLineLength: Int = 998,
        maxHeaderBlockSize: Int = 1 << 20,
        maxLineLength: Int = 998,
        maxBoundaryLength: Int = 1024,
        validateBodies: Bool = true,
        detectInlineUUEncode: Bool = true
    ) {
        self.maxDepth = maxDepth
        self.maxParts = maxParts
        self.maxHeaderLineLength = maxHeaderLineLength
        self.maxHeaderBlockSize = maxHeaderBlockSize
        self.maxLineLength = maxLineLength
        self.maxBoundaryLength = maxBoundaryLength
        self.validateBodies = validateBodies
        self.detectInlineUUEncode = detectInlineUUEncode
    }

    var effectiveMaxDepth: Int { Swift.max(0, Swift.min(maxDepth, Self.hardMaxDepth)) }
    var effectiveMaxParts: Int { Swift.max(1, maxParts) }
}
