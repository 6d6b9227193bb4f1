import CSandbox
import Foundation
import Logging
import Synchronization
import ThreatEngine

/// moatd's virus scanner: libclamav runs only in sandboxed worker processes (`moat-scan`),
/// never beside the CA key, the console's secrets or the connections. Scans are handed over as
/// descriptors (a memfd for parts in memory, the spool file itself for stored messages).
///
/// A worker that crashes or passes its deadline is killed and replaced; its part is
/// `unchecked` and BlockUnchecked decides; moatd and the other scans go on.
public final class SandboxedScanner: ThreatScanning {
    /// The confinement in force, for the log and appinfo.
    public let measures: [String]
    /// Measures that could not be taken (no namespaces in a container, not started as root).
    public let sandboxWarnings: [String]
    /// The workers' scratch directory when moatd made it (spawned supervisor); removed with it.
    private let scratchDirectory: String?
    public let maxConcurrentScans: Int
    private let shared: SandboxShared

    /// Starts the supervisor and waits until its engine is loaded (seconds with the full
    /// database): call it at start-up, not on an event loop.
    ///
    /// - Parameters:
    ///   - executable: the `moat-scan` binary (`ScanWorkerExecutable.locate()`).
    ///   - workerCount: scans at once, one worker process each; nil for one per core.
    public convenience init(configuration: SandboxConfiguration, executable: String, workerCount: Int? = nil,
                            loadTimeout: Duration = .seconds(600), logger: Logger) throws {
        try self.init(configuration: configuration, supervisor: .spawn(executable: executable),
                      workerCount: workerCount, loadTimeout: loadTimeout, logger: logger)
    }

    /// Where the supervisor comes from.
    public enum Supervisor: Sendable {
        /// moatd starts `moat-scan` itself, which confines itself (needs root for its user and
        /// namespaces).
        case spawn(executable: String)
        /// moat-scan.service listens there, confined by its unit.
        case service(socket: String)
    }

    public init(configuration: SandboxConfiguration, supervisor: Supervisor, workerCount: Int? = nil,
                loadTimeout: Duration = .seconds(600), logger: Logger) throws {
        let establish: @Sendable () throws -> SupervisorLink.Started = {
            switch supervisor {
            case .spawn(let executable):
                try SupervisorLink.start(executable: executable, configuration: configuration, loadTimeout: loadTimeout)
            case .service(let socket):
                try SupervisorLink.connect(to: socket, configuration: configuration, loadTimeout: loadTimeout)
            }
        }
        let (link, info, measures, warnings) = try establish()
        self.measures = measures
        sandboxWarnings = warnings
        if case .spawn = supervisor { scratchDirectory = configuration.scratchDirectory } else { scratchDirectory = nil }
        limitsInForce = Mutex(configuration.limits)
        let slots = max(1, workerCount ?? ProcessInfo.processInfo.activeProcessorCount)
        maxConcurrentScans = slots
        shared = SandboxShared(link: link, queue: RemoteScanQueue(slots: slots), info: info, logger: logger,
                               establish: establish)
        for index in 0..<slots {
            let shared = self.shared
            let thread = Thread {
                var slot = ScanSlot(index: index, shared: shared)
                slot.run()
            }
            thread.name = "moat-scan-slot-\(index)"
            thread.start()
        }
    }

    deinit {
        shared.queue.close()
        shared.link.shutdown()
        // What libclamav left behind in the workers' scratch directory goes with them.
        if let scratchDirectory { try? FileManager.default.removeItem(atPath: scratchDirectory) }
    }

    public var signatureInfo: SignatureInfo { shared.current.withLock { $0 } }

    public var limits: ScanLimits { limitsInForce.withLock { $0 } }

    /// The supervisor's process id (its workers are its children).
    public var supervisorPID: pid_t { shared.link.pid }

    var sharedLink: SupervisorLink { shared.link }

    /// Requests waiting for a free worker.
    var queuedRequests: Int { shared.queue.waitingCount }

    var scratchDirectoryForTests: String { scratchDirectory ?? "" }

    /// The workers in the middle of a scan now.
    public var busyWorkerPIDs: [pid_t] { shared.busy.withLock { Array($0) } }

    /// The worker processes alive now, by slot.
    public var workerPIDs: [pid_t] { shared.workers.withLock { Array($0.values) } }

    private let limitsInForce: Mutex<ScanLimits>

    public func scan(bytes: [UInt8], name: String?, limits: ScanLimits?) async -> ScanResult {
        guard !bytes.isEmpty else { return .clean }
        return await scan(parts: [ScanPart(bytes: bytes, name: name)], limits: limits)[0]
    }

    /// The parts go to the workers in batches (`PartBatches`): many small parts in one request
    /// and one memfd, each large one alone so that several workers share a big message.
    public func scan(parts: [ScanPart], limits: ScanLimits?) async -> [ScanResult] {
        let batches = PartBatches.split(sizes: parts.map(\.bytes.count))
        guard batches.count > 1 else { return await scan(batch: parts[...], limits: limits) }
        return await withTaskGroup(of: (Int, [ScanResult]).self) { group in
            for (number, batch) in batches.enumerated() {
                group.addTask { (number, await self.scan(batch: parts[batch], limits: limits)) }
            }
            // Every batch answers below; a placeholder is never "clean".
            var answers = batches.map { [ScanResult](repeating: .unchecked(.engineError("not scanned")), count: $0.count) }
            for await (number, results) in group { answers[number] = results }
            return answers.flatMap { $0 }
        }
    }

    /// One request: the parts written one after the other into a memfd.
    private func scan(batch: ArraySlice<ScanPart>, limits: ScanLimits?) async -> [ScanResult] {
        let descriptor = moat_memfd(batch.count == 1 ? batch.first?.name ?? "part" : "parts")
        guard descriptor >= 0 else {
            return batch.map { _ in .unchecked(.engineError("memfd_create: \(String(cString: strerror(-descriptor)))")) }
        }
        var spans: [PartSpan] = []
        var offset = 0
        for part in batch {
            if let failure = Self.write(part.bytes, to: descriptor) {
                close(descriptor)
                return batch.map { _ in .unchecked(.engineError("cannot hand the part to the scanner: \(failure)")) }
            }
            spans.append(PartSpan(name: part.name.map(Self.shortened), offset: offset, length: part.bytes.count))
            offset += part.bytes.count
        }
        return await run(descriptor: descriptor, spans: spans, bytes: offset, limits: limits)
    }

    public func scan(fileAt path: String, limits: ScanLimits?) async -> ScanResult {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .unchecked(.engineError("cannot open \(path): \(String(cString: strerror(errno)))")) }
        var status = stat()
        let bytes = fstat(descriptor, &status) == 0 ? Int(status.st_size) : Int.max
        return await run(descriptor: descriptor, spans: [PartSpan(name: (path as NSString).lastPathComponent)], bytes: bytes,
                         limits: limits)[0]
    }

    private func run(descriptor: Int32, spans: [PartSpan], bytes: Int, limits requested: ScanLimits?) async -> [ScanResult] {
        // Slots kill a worker at the deadline; the queue answers a job still waiting behind busy
        // slots at its deadline, whose worker never started on it.
        let job = RemoteScanJob(descriptor: descriptor, spans: spans, bytes: bytes, limits: requested ?? limits)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                job.attach(continuation)
                shared.queue.submit(job)
            }
        } onCancel: {
            job.finish(.unchecked(.engineError("scan cancelled")))
        }
    }

    /// The whole of `bytes`, or why not.
    private static func write(_ bytes: [UInt8], to descriptor: Int32) -> String? {
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return String(cString: strerror(errno)) }
            written += count
        }
        return nil
    }

    /// A file name as libclamav sees one (255 bytes at most), so that a batch of parts with
    /// long attacker-chosen names still fits one request.
    static func shortened(_ name: String) -> String {
        var utf8 = Array(name.utf8.prefix(255))
        while !utf8.isEmpty, String(validating: utf8, as: UTF8.self) == nil { utf8.removeLast() }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Has the supervisor load the signatures again; the slots retire their workers when their
    /// current scans end and fork new ones from the new engine. On failure the old engine stays.
    public func reload(limits newLimits: ScanLimits?) async throws {
        let shared = self.shared
        // Loading blocks for seconds: keep it off the cooperative pool.
        let info: SignatureInfo = try await withCheckedThrowingContinuation { continuation in
            // The link serialises requests: two reloads never load at once, and workers are
            // forked again once the supervisor has the new engine.
            let thread = Thread {
                continuation.resume(with: Result {
                    let (reply, descriptor, _) = try shared.request(.reload(limits: newLimits), timeout: .seconds(600))
                    if descriptor >= 0 { close(descriptor) }
                    switch reply {
                    case .reloaded(let info, let messages):
                        for message in messages { shared.logger.log(level: message.level, "libclamav: \(message.text)") }
                        return info
                    case .failed(let reason): throw SupervisorLink.Failure(description: reason)
                    default: throw SupervisorLink.Failure(description: "the supervisor answered a reload out of turn")
                    }
                })
            }
            thread.name = "moat-signature-reload"
            thread.start()
        }
        if let newLimits { limitsInForce.withLock { $0 = newLimits } }
        shared.current.withLock { $0 = info }
    }
}
