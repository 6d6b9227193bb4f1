import ThreatEngine

/// How the scan supervisor confines itself and its workers, and which engine it builds. moatd
/// fills it from the configuration and sends it as the supervisor's first message.
public struct SandboxConfiguration: Codable, Sendable {
    /// Where freshclam keeps the signatures.
    public var signatureDirectory: String
    /// Engine-wide limits (see `EngineSetup.engineLimits`).
    public var limits: ScanLimits
    /// The workers' only writable directory (libclamav's scratch space), created for the
    /// sandbox user. Inside the sandbox it is seen as /tmp.
    public var scratchDirectory: String
    /// The unprivileged user the supervisor and workers run as when started by root.
    public var user: String
    /// Directories hidden behind an empty read-only mount: moatd's state (CA key, console
    /// secrets, spools, learned model) and its configuration.
    public var maskedPaths: [String]
    /// Address space a worker may use beyond the loaded engine (RLIMIT_AS), in bytes.
    public var memoryHeadroom: UInt64
    #if DEBUG
    /// Test builds only: every scan waits this long first, so tests can catch a worker
    /// mid-scan or past its deadline. Release builds have no such field.
    public var testScanDelayMilliseconds: UInt32 = 0
    /// Test builds only: a worker given content that starts with these bytes crashes
    /// (SIGSEGV), as a libclamav memory bug reached by a hostile file would.
    public var testCrashPrefix: [UInt8] = []
    #endif

    public init(signatureDirectory: String, limits: ScanLimits, scratchDirectory: String,
                user: String = "moat-scan", maskedPaths: [String] = [], memoryHeadroom: UInt64 = 1 << 30) {
        self.signatureDirectory = signatureDirectory
        self.limits = limits
        self.scratchDirectory = scratchDirectory
        self.user = user
        self.maskedPaths = maskedPaths
        self.memoryHeadroom = memoryHeadroom
    }
}
