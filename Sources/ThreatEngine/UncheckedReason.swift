/// Why an input could not be checked. The rule language treats all of them as "unchecked";
/// the reason is for logs and for the operator tuning limits.
public enum UncheckedReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The scan ran past `ScanLimits.scanTimeout`.
    case timeout
    /// A limit stopped the scan before everything was inspected. The name is the configuration
    /// parameter where Moat enforces it ("ArchiveMaxLevel", "MaxCompressionRatio", ...) or
    /// libclamav's limit name ("MaxFileSize", "MaxScanSize", "MaxRecursion", "MaxFiles", ...).
    case limitExceeded(String)
    /// An encrypted archive or document: its content is unreadable without the password.
    case encrypted
    /// libclamav could not parse the input.
    case malformed(String)
    /// libclamav failed for another reason (I/O, memory, no engine).
    case engineError(String)

    public var description: String {
        switch self {
        case .timeout: "timeout"
        case .limitExceeded(let name): "limit exceeded: \(name)"
        case .encrypted: "encrypted"
        case .malformed(let detail): "malformed: \(detail)"
        case .engineError(let detail): "engine error: \(detail)"
        }
    }

    /// When several reasons occur in one scan, the caller sees the most telling one.
    var rank: Int {
        switch self {
        case .timeout: 5
        case .limitExceeded: 4
        case .encrypted: 3
        case .malformed: 2
        case .engineError: 1
        }
    }
}
