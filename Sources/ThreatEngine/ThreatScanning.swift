/// What MailD and the daemon need from a virus scanner, whether libclamav runs in this
/// process (`ThreatScanner`: moat-ctl's tests and tools) or in sandboxed worker processes
/// (ScanSandbox's `SandboxedScanner`: moatd). Every scan answers within its `scanTimeout`.
public protocol ThreatScanning: AnyObject, Sendable {
    /// What the current engine was built from.
    var signatureInfo: SignatureInfo { get }
    /// The engine-wide limits, and the default for a scan.
    var limits: ScanLimits { get }
    /// Scans that can run at once.
    var maxConcurrentScans: Int { get }
    /// Scans bytes held in memory (a MIME part, a whole message).
    func scan(bytes: [UInt8], name: String?, limits: ScanLimits?) async -> ScanResult
    /// Scans a file (a spooled message) by path.
    func scan(fileAt path: String, limits: ScanLimits?) async -> ScanResult
    /// Loads the signatures again; scans already running finish on the old engine.
    func reload(limits: ScanLimits?) async throws
}

extension ThreatScanning {
    public func scan(bytes: [UInt8], name: String? = nil) async -> ScanResult {
        await scan(bytes: bytes, name: name, limits: nil)
    }

    public func scan(bytes: [UInt8], limits: ScanLimits?) async -> ScanResult {
        await scan(bytes: bytes, name: nil, limits: limits)
    }

    public func scan(fileAt path: String) async -> ScanResult {
        await scan(fileAt: path, limits: nil)
    }

    public func reload() async throws {
        try await reload(limits: nil)
    }
}
