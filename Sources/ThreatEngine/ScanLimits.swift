/// The limits one scan runs under. They mirror the `ScanLimits` parameters of the configuration
/// (`ScanTimeout`, `HeuristicAnalysis`, `PackerMaxLevel`, `ArchiveMaxLevel`, `MailMaxLevel`,
/// `ContainerMaxLevel`, `MaxCompressionRatio`) plus two size caps libclamav needs.
///
/// How each field reaches libclamav, and what Moat enforces itself because libclamav has no knob
/// for it, is documented in `LIMITS.md` next to this file. In short:
/// - `scanTimeout`: `CL_ENGINE_MAX_SCANTIME` (ms) on the engine, plus an outer deadline in
///   `ThreatScanner` that answers `.unchecked(.timeout)` even if libclamav keeps running.
/// - `heuristicAnalysis`: `CL_SCAN_GENERAL_HEURISTICS` in `cl_scan_options.general`.
/// - the four `…MaxLevel`s: counted by Moat per kind of layer in the file-inspection callback;
///   the engine's `CL_ENGINE_MAX_RECURSION` is their sum, as a backstop.
/// - `maxCompressionRatio`: checked by Moat from archive metadata (declared sizes) and from
///   extracted sizes, because libclamav silently truncates oversized members instead.
/// - `maxFileSize` / `maxScanSize`: `CL_ENGINE_MAX_FILESIZE` / `CL_ENGINE_MAX_SCANSIZE`.
public struct ScanLimits: Sendable, Hashable, Codable {
    /// Time limit for one scan; past it the input is unchecked.
    public var scanTimeout: Duration
    /// Whether libclamav's heuristics may report unknown threats (`Heuristics.*`).
    public var heuristicAnalysis: Bool
    /// Deepest nesting of packed executables that is unpacked.
    public var packerMaxLevel: Int
    /// Deepest nesting of archives that is opened.
    public var archiveMaxLevel: Int
    /// Deepest nesting of attached messages that is opened.
    public var mailMaxLevel: Int
    /// Deepest nesting of other containers (documents with embedded objects) that is opened.
    public var containerMaxLevel: Int
    /// An archive member expanding more than this many times is a bomb.
    public var maxCompressionRatio: Int
    /// Largest single file (the input or an extracted member) that is scanned, in bytes.
    public var maxFileSize: Int
    /// Most bytes scanned in total for one input, extracted members included.
    public var maxScanSize: Int

    /// A member must expand to at least this many bytes before its ratio counts: small, very
    /// repetitive files (a page of spaces) compress hundreds of times without being bombs.
    public static let compressionRatioFloor = 1 << 20

    /// The configuration defaults (see `ScanLimitsSpec` in MoatConfig), with clamd's size caps.
    public init(
        scanTimeout: Duration = .seconds(30),
        heuristicAnalysis: Bool = true,
        packerMaxLevel: Int = 8,
        archiveMaxLevel: Int = 8,
        mailMaxLevel: Int = 8,
        containerMaxLevel: Int = 8,
        maxCompressionRatio: Int = 500,
        maxFileSize: Int = 100 << 20,
        maxScanSize: Int = 400 << 20
    ) {
        self.scanTimeout = scanTimeout
        self.heuristicAnalysis = heuristicAnalysis
        self.packerMaxLevel = packerMaxLevel
        self.archiveMaxLevel = archiveMaxLevel
        self.mailMaxLevel = mailMaxLevel
        self.containerMaxLevel = containerMaxLevel
        self.maxCompressionRatio = maxCompressionRatio
        self.maxFileSize = maxFileSize
        self.maxScanSize = maxScanSize
    }

    public static let `default` = ScanLimits()

    /// libclamav counts every layer (archive, mail, unpacked executable, embedded object, and
    /// normalised text) in one recursion depth. Moat counts per kind, so the engine-wide cap is
    /// the sum of the kinds plus room for normalisation layers; it only acts as a backstop.
    var engineRecursionLimit: Int {
        let sum = max(0, packerMaxLevel) + max(0, archiveMaxLevel) + max(0, mailMaxLevel)
            + max(0, containerMaxLevel)
        return min(sum + Self.normalisationHeadroom, Self.engineRecursionCeiling)
    }

    /// Layers libclamav adds on its own (HTML/script normalisation, decoded text) per scan.
    static let normalisationHeadroom = 4
    /// Deeper than this libclamav is only burning stack; 64 is also the config's maximum level.
    static let engineRecursionCeiling = 64

    /// `CL_ENGINE_MAX_SCANTIME` takes milliseconds; 0 would mean "no limit", so round up to 1.
    var scanTimeoutMilliseconds: UInt32 {
        let (seconds, attoseconds) = scanTimeout.components
        let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return UInt32(clamping: max(1, ms))
    }
}
