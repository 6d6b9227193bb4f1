import Foundation
import Synchronization

/// Moat's virus scanner: libclamav with signatures from freshclam's directory (or Moat's
/// built-in test-file database when there are none), scans off the event loops with bounded
/// concurrency and a hard per-scan deadline, and atomic signature reloads.
///
/// ```swift
/// let scanner = try ThreatScanner(signatureDirectory: nil, limits: limits)
/// for warning in scanner.signatureInfo.warnings { logger.warning("\(warning)") }
/// switch await scanner.scan(bytes: part, name: "invoice.zip") { ... }
/// ```
public final class ThreatScanner: ThreatScanning {
    /// The directory signatures are loaded from; `/var/lib/clamav` unless the caller chose one.
    public let signatureDirectory: String
    public let temporaryDirectory: String?

    private let current: Mutex<ScanEngine>
    private let pool: ScanWorkerPool
    /// Serialises reloads so two of them never compile (and hold in memory) at once.
    private let reloadGate = Mutex(false)

    /// Builds the first engine. Blocks while signatures load (seconds with the full official
    /// database): call it at start-up, not on an event loop.
    ///
    /// - Parameters:
    ///   - signatureDirectory: where freshclam keeps the databases; nil for `/var/lib/clamav`.
    ///   - limits: written into the engine (time, sizes) and the default for `scan`. One
    ///     scanner serving several interfaces should get the most generous time and sizes of
    ///     them all: a per-scan `ScanLimits` can tighten the time limit (outer deadline) but not
    ///     loosen libclamav's engine-wide caps.
    ///   - maxConcurrentScans: scans running at once; nil for one per core.
    ///   - temporaryDirectory: libclamav's per-scan scratch space (nil: $TMPDIR or /tmp).
    public init(signatureDirectory: String? = nil, limits: ScanLimits = .default,
                maxConcurrentScans: Int? = nil, temporaryDirectory: String? = nil) throws {
        let directory = signatureDirectory ?? SignatureDirectory.systemDefault
        self.signatureDirectory = directory
        self.temporaryDirectory = temporaryDirectory
        let loaded = try Self.load(from: directory, limits: limits, generation: 1, temporaryDirectory: temporaryDirectory)
        current = Mutex(loaded)
        pool = ScanWorkerPool(workerCount: maxConcurrentScans ?? ProcessInfo.processInfo.activeProcessorCount)
    }

    deinit {
        pool.shutdown()
    }

    /// What the current engine was built from. Log `warnings` at warning level or louder.
    public var signatureInfo: SignatureInfo {
        current.withLock { $0.info }
    }

    /// The limits the current engine was built with, and the default for `scan`.
    public var limits: ScanLimits {
        current.withLock { $0.limits }
    }

    /// Number of scans that can run at once.
    public var maxConcurrentScans: Int { pool.workerCount }

    // MARK: Scanning

    /// Scans bytes held in memory (a MIME part, a whole message).
    ///
    /// The array is kept alive by the scan itself, so a scan that outlives its deadline inside
    /// libclamav never reads freed memory.
    ///
    /// - Parameters:
    ///   - name: a file name for libclamav's logs and name-based detections, if known.
    ///   - limits: limits for this scan; nil for the scanner's. Time, levels, compression ratio
    ///     and heuristics apply per scan; file and scan sizes are engine-wide (see LIMITS.md).
    public func scan(bytes: [UInt8], name: String?, limits: ScanLimits?) async -> ScanResult {
        await run(limits: limits) { engine, context in
            engine.scan(bytes: bytes, name: name, context: context)
        }
    }

    /// Scans a file libclamav opens itself (`cl_scanfile`), e.g. a spooled message.
    public func scan(fileAt path: String, limits: ScanLimits?) async -> ScanResult {
        await run(limits: limits) { engine, context in
            engine.scan(fileAt: path, context: context)
        }
    }

    private func run(limits requested: ScanLimits?,
                     _ body: @escaping @Sendable (ClamEngine, ScanContext) -> ScanResult) async -> ScanResult {
        // The engine is fixed when the scan is submitted: a reload in the meantime does not
        // change it, and this reference keeps it alive until the scan is over.
        let engine = current.withLock { $0.engine }
        let limits = requested ?? engine.limits
        let context = ScanContext(limits: limits)
        let job = ScanJob(context: context) { context in body(engine, context) }

        let pool = self.pool
        let deadline = Task {
            // The outer deadline counts from submission: a caller gets its answer within
            // `scanTimeout` even when every worker is busy or libclamav ignores MAX_SCANTIME.
            try? await Task.sleep(for: limits.scanTimeout)
            if Task.isCancelled { return }
            if job.expire(with: .unchecked(.timeout)) { pool.workerAbandoned() }
        }
        defer { deadline.cancel() }

        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                job.attach(continuation)
                pool.submit(job)
            }
        } onCancel: {
            if job.expire(with: .unchecked(.engineError("scan cancelled"))) { pool.workerAbandoned() }
        }
    }

    // MARK: Reloading

    /// Loads the signatures again (after freshclam updated them) and swaps the new engine in
    /// atomically. Scans already running finish on the old engine, which is freed when the
    /// last of them ends; scans submitted afterwards use the new one. On failure the old
    /// engine stays in service and the error is thrown.
    ///
    /// - Parameter limits: new engine-wide limits; nil keeps the current ones.
    public func reload(limits newLimits: ScanLimits?) async throws {
        let limits = newLimits ?? self.limits
        let directory = signatureDirectory
        let temporaryDirectory = self.temporaryDirectory
        // Loading is CPU-bound C code that runs for seconds: keep it off the cooperative pool.
        let loaded: ScanEngine = try await withCheckedThrowingContinuation { continuation in
            let generation = current.withLock { $0.info.generation } + 1
            let thread = Thread { [self] in
                self.reloadGate.withLock { _ in
                    continuation.resume(with: Result {
                        try Self.load(from: directory, limits: limits, generation: generation,
                                      temporaryDirectory: temporaryDirectory)
                    })
                }
            }
            thread.name = "moat-signature-reload"
            thread.stackSize = ScanWorkerPool.workerStackSize
            thread.start()
        }
        current.withLock { current in
            var info = loaded.info
            info.generation = max(info.generation, current.info.generation + 1)
            current = ScanEngine(engine: loaded.engine, info: info)
        }
    }

    /// Test hook: the engine new scans would use.
    var currentEngine: ClamEngine { current.withLock { $0.engine } }

    private static func load(from directory: String, limits: ScanLimits, generation: Int,
                             temporaryDirectory: String?) throws -> ScanEngine {
        try ScanEngine.load(from: directory, limits: limits, generation: generation,
                            temporaryDirectory: temporaryDirectory)
    }
}
