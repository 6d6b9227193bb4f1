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
    /// Scans several parts of one message, each on its own, answering in their order. A
    /// scanner may hand them over together (the sandbox: one worker request for many small
    /// parts); `limits.scanTimeout` bounds the whole call.
    func scan(parts: [ScanPart], limits: ScanLimits?) async -> [ScanResult]
    /// Scans a file (a spooled message) by path.
    func scan(fileAt path: String, limits: ScanLimits?) async -> ScanResult
    /// Loads the signatures again; scans already running finish on the old engine.
    func reload(limits: ScanLimits?) async throws
}

extension ThreatScanning {
    /// Each part a scan of its own, run concurrently (the scanner bounds how many at once).
    public func scan(parts: [ScanPart], limits: ScanLimits?) async -> [ScanResult] {
        await withTaskGroup(of: (Int, ScanResult).self) { group in
            for (index, part) in parts.enumerated() {
                group.addTask { (index, await self.scan(bytes: part.bytes, name: part.name, limits: limits)) }
            }
            // Every slot is filled below; a placeholder is never "clean".
            var results = [ScanResult](repeating: .unchecked(.engineError("not scanned")), count: parts.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
    }

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
