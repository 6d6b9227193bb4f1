import CClamAV

/// Process-wide libclamav state. `cl_init` must run exactly once per process, before any
/// engine exists; a `static let` gives that with the runtime's thread-safe lazy initialisation.
enum ClamLibrary {
    private static let initResult: cl_error_t = {
        // Before any engine: libclamav's errors during a scan must reach that scan (see
        // ClamMessages), whoever logs them.
        ClamMessages.install()
        return cl_init(UInt32(CL_INIT_DEFAULT))
    }()

    static func ensureInitialized() throws(ThreatEngineError) {
        let result = initResult
        guard result == CL_SUCCESS else {
            throw .initializationFailed(describe(result))
        }
    }

    /// libclamav's own message for a return code.
    static func describe(_ code: cl_error_t) -> String {
        guard let message = cl_strerror(code) else { return "error \(code.rawValue)" }
        return String(cString: message)
    }

    /// The libclamav version string, e.g. "1.4.6".
    static var version: String {
        guard let version = cl_retver() else { return "unknown" }
        return String(cString: version)
    }
}
