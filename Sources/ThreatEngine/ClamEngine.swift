import CClamAV

/// One compiled libclamav engine (`struct cl_engine *`) with its signatures.
///
/// After `cl_engine_compile` the engine is read-only and libclamav allows any number of
/// concurrent scans on it, so the class is `@unchecked Sendable`. Each scan holds a strong
/// reference for its whole duration; a reload builds a new engine and the old one is freed by
/// `deinit` when its last scan lets go.
final class ClamEngine: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Signatures `cl_load` reported.
    let signatureCount: Int
    /// `CL_ENGINE_DB_VERSION`: the daily database version, 0 without official databases.
    let databaseVersion: Int
    /// The limits written into the engine (time, sizes, recursion backstop).
    let limits: ScanLimits

    /// Builds an engine from every signature file in `directory`.
    /// `temporaryDirectory`: where libclamav makes its per-scan directory (nil: its default,
    /// $TMPDIR or /tmp). It creates and removes one for every scan, so a tmpfs saves disk work.
    init(loadingSignaturesFrom directory: String, limits: ScanLimits, temporaryDirectory: String? = nil) throws(ThreatEngineError) {
        try ClamLibrary.ensureInitialized()
        guard let handle = cl_engine_new() else { throw .engineCreationFailed }
        self.handle = handle
        self.limits = limits

        Self.apply(limits, to: handle)
        // Per-scan limits differ from call to call and libclamav's clean-file cache does not know
        // them: a file cached clean under generous limits would skip a stricter scan. Mail rarely
        // repeats attachments, so the cache buys little here.
        cl_engine_set_num(handle, CL_ENGINE_DISABLE_CACHE, 1)
        if let temporaryDirectory { cl_engine_set_str(handle, CL_ENGINE_TMPDIR, temporaryDirectory) }
        ScanCallbacks.install(on: handle)

        var loaded: UInt32 = 0
        let loadResult = cl_load(directory, handle, &loaded, Self.databaseOptions)
        guard loadResult == CL_SUCCESS else {
            cl_engine_free(handle)
            throw .signatureLoadFailed(directory: directory, detail: ClamLibrary.describe(loadResult))
        }
        let compileResult = cl_engine_compile(handle)
        guard compileResult == CL_SUCCESS else {
            cl_engine_free(handle)
            throw .compileFailed(ClamLibrary.describe(compileResult))
        }
        signatureCount = Int(loaded)
        var error: Int32 = 0
        databaseVersion = Int(cl_engine_get_num(handle, CL_ENGINE_DB_VERSION, &error))
    }

    deinit {
        cl_engine_free(handle)
    }

    /// `CL_DB_STDOPT` (phishing signatures and URLs, bytecode) plus PUA signatures, because
    /// Adware, Riskware, HackTool and Dialer come from them. The C macro is a composite and not
    /// imported into Swift, hence spelled out.
    static let databaseOptions = UInt32(CL_DB_PHISHING) | UInt32(CL_DB_PHISHING_URLS)
        | UInt32(CL_DB_BYTECODE) | UInt32(CL_DB_PUA)

    private static func apply(_ limits: ScanLimits, to engine: OpaquePointer) {
        cl_engine_set_num(engine, CL_ENGINE_MAX_SCANTIME, Int64(limits.scanTimeoutMilliseconds))
        cl_engine_set_num(engine, CL_ENGINE_MAX_RECURSION, Int64(limits.engineRecursionLimit))
        cl_engine_set_num(engine, CL_ENGINE_MAX_FILESIZE, Int64(max(1, limits.maxFileSize)))
        cl_engine_set_num(engine, CL_ENGINE_MAX_SCANSIZE, Int64(max(1, limits.maxScanSize)))
    }

    /// Scans memory the caller keeps mapped for the whole call (a mapped file).
    func scan(mapped buffer: UnsafeRawBufferPointer, name: String?, context: ScanContext) -> ScanResult {
        guard buffer.count > 0 else { return .clean }
        var options = ScanOptions.make(for: context.limits)
        var virname: UnsafePointer<CChar>?
        var scanned: UInt = 0
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        let result: cl_error_t = context.whileCurrent {
            guard let map = cl_fmap_open_memory(buffer.baseAddress, buffer.count) else { return CL_EMAP }
            defer { cl_fmap_close(map) }
            return cl_scanmap_callback(map, name, &virname, &scanned, handle, &options, contextPointer)
        }
        return withExtendedLifetime(context) {
            Verdict.make(code: result, virname: virname.map { String(cString: $0) }, context: context)
        }
    }

    /// Scans bytes in memory. Blocks the calling thread: call it from a scan worker only.
    func scan(bytes: [UInt8], name: String?, context: ScanContext) -> ScanResult {
        guard !bytes.isEmpty else { return .clean }
        var options = ScanOptions.make(for: context.limits)
        var virname: UnsafePointer<CChar>?
        var scanned: UInt = 0
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        let result: cl_error_t = context.whileCurrent {
            bytes.withUnsafeBytes { buffer in
                guard let map = cl_fmap_open_memory(buffer.baseAddress, buffer.count) else {
                    return CL_EMAP
                }
                defer { cl_fmap_close(map) }
                return cl_scanmap_callback(map, name, &virname, &scanned, handle, &options, contextPointer)
            }
        }
        return withExtendedLifetime(context) {
            Verdict.make(code: result, virname: virname.map { String(cString: $0) }, context: context)
        }
    }

    /// Scans an open file (a spool file or a memfd handed over by moatd) from its start.
    /// Blocks the calling thread. The descriptor stays open; the caller closes it.
    func scan(descriptor: Int32, name: String?, context: ScanContext) -> ScanResult {
        var options = ScanOptions.make(for: context.limits)
        var virname: UnsafePointer<CChar>?
        var scanned: UInt = 0
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        let result = context.whileCurrent {
            cl_scandesc_callback(descriptor, name, &virname, &scanned, handle, &options, contextPointer)
        }
        return withExtendedLifetime(context) {
            Verdict.make(code: result, virname: virname.map { String(cString: $0) }, context: context)
        }
    }

    /// Scans a file by path. Blocks the calling thread: call it from a scan worker only.
    func scan(fileAt path: String, context: ScanContext) -> ScanResult {
        var options = ScanOptions.make(for: context.limits)
        var virname: UnsafePointer<CChar>?
        var scanned: UInt = 0
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        let result = context.whileCurrent {
            cl_scanfile_callback(path, &virname, &scanned, handle, &options, contextPointer)
        }
        return withExtendedLifetime(context) {
            Verdict.make(code: result, virname: virname.map { String(cString: $0) }, context: context)
        }
    }
}
