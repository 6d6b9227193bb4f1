import Foundation

/// A compiled libclamav engine together with what it was built from, scanning on the calling
/// thread. `ThreatScanner` runs it on its worker threads; the sandbox's worker processes run it
/// directly, one scan at a time, and enforce the deadline by being killed.
public final class ScanEngine: Sendable {
    let engine: ClamEngine
    public let info: SignatureInfo

    /// Loads every signature file in `directory`, or Moat's built-in test database when there
    /// are none (with a warning in `info`). Blocks for seconds with the full database.
    public static func load(from directory: String, limits: ScanLimits, generation: Int,
                            temporaryDirectory: String?) throws -> ScanEngine {
        let files = SignatureDirectory.signatureFiles(in: directory)
        let engine: ClamEngine
        var warnings: [String] = []
        if files.isEmpty {
            warnings.append(
                "No ClamAV signatures in \(directory) (run freshclam): using Moat's built-in test "
                    + "signatures, which detect only EICAR and ClamAV's test files, no real malware")
            let builtin = try SignatureDirectory.writeBuiltinDatabase(in: temporaryDirectory)
            defer { SignatureDirectory.remove(builtin) }
            engine = try ClamEngine(loadingSignaturesFrom: builtin, limits: limits, temporaryDirectory: temporaryDirectory)
        } else {
            engine = try ClamEngine(loadingSignaturesFrom: directory, limits: limits, temporaryDirectory: temporaryDirectory)
            if engine.signatureCount == 0 {
                warnings.append("The signature files in \(directory) hold no signatures: nothing will be detected")
            }
        }
        let info = SignatureInfo(
            signatureCount: engine.signatureCount,
            directory: directory,
            usingBuiltinSignatures: files.isEmpty,
            databaseVersion: engine.databaseVersion,
            engineVersion: ClamLibrary.version,
            warnings: warnings,
            generation: generation)
        return ScanEngine(engine: engine, info: info)
    }

    init(engine: ClamEngine, info: SignatureInfo) {
        self.engine = engine
        self.info = info
    }

    /// The same engine, with `directory` named in its info and warnings instead of `path` (the
    /// sandbox reads the signatures through a descriptor's path).
    public func describing(directory: String, insteadOf path: String) -> ScanEngine {
        var info = info
        info.directory = directory
        info.warnings = info.warnings.map { $0.replacingOccurrences(of: path, with: directory) }
        return ScanEngine(engine: engine, info: info)
    }

    /// The limits the engine was built with (engine-wide sizes, libclamav's own time limit).
    public var limits: ScanLimits { engine.limits }

    /// Scans an open descriptor from its start, blocking; the caller closes it. The file is
    /// mapped and scanned in memory (libclamav would otherwise read it page by page with
    /// pread); one that cannot be mapped is scanned through the descriptor.
    public func scan(descriptor: Int32, name: String?, limits: ScanLimits?) -> ScanResult {
        let context = ScanContext(limits: limits ?? engine.limits)
        // The offset may be shared with the sender's copy: the fallback reads from the start.
        lseek(descriptor, 0, SEEK_SET)
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return engine.scan(descriptor: descriptor, name: name, context: context) }
        let size = Int(info.st_size)
        guard size > 0 else { return .clean }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            return engine.scan(descriptor: descriptor, name: name, context: context)
        }
        defer { munmap(mapped, size) }
        return engine.scan(mapped: UnsafeRawBufferPointer(start: mapped, count: size), name: name, context: context)
    }

    /// Scans the spans of an open descriptor one after the other, each as its own scan, and
    /// hands every result to `each` as soon as it is known (the sandbox's worker answers part
    /// by part, so the parts done before a deadline or a crash keep their verdicts). The file
    /// is mapped once for all of them. A span outside the file is an engine error of its own.
    /// `willScan` runs before each span's scan (the sandbox's test hooks).
    public func scan(descriptor: Int32, spans: [PartSpan], limits: ScanLimits?,
                     willScan: (PartSpan) -> Void = { _ in }, each: (ScanResult) -> Void) {
        if spans.count == 1, spans[0].offset == 0, spans[0].length == nil {
            willScan(spans[0])
            return each(scan(descriptor: descriptor, name: spans[0].name, limits: limits))
        }
        let context = { ScanContext(limits: limits ?? self.engine.limits) }
        var info = stat()
        let size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : -1
        let mapped = size > 0 ? mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0) : nil
        defer { if let mapped, mapped != MAP_FAILED { munmap(mapped, size) } }
        for span in spans {
            guard size >= 0, let range = span.range(inFileOf: size) else {
                each(.unchecked(.engineError("the part lies outside the file handed over")))
                continue
            }
            willScan(span)
            if range.isEmpty {
                each(.clean)
            } else if let mapped, mapped != MAP_FAILED {
                let whole = UnsafeRawBufferPointer(start: mapped, count: size)
                each(engine.scan(mapped: UnsafeRawBufferPointer(rebasing: whole[range]), name: span.name, context: context()))
            } else {
                // Not mappable: read the span, as libclamav would page by page.
                var bytes = [UInt8](repeating: 0, count: range.count)
                let read = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, range.count, off_t(range.lowerBound)) }
                each(read == range.count ? engine.scan(bytes: bytes, name: span.name, context: context())
                                         : .unchecked(.engineError("cannot read the part handed over")))
            }
        }
    }

    /// Scans bytes in memory, blocking.
    public func scan(bytes: [UInt8], name: String?, limits: ScanLimits?) -> ScanResult {
        engine.scan(bytes: bytes, name: name, context: ScanContext(limits: limits ?? engine.limits))
    }
}
