/// Failures that stop the engine from being built. A failing scan is never an error: it is
/// `ScanResult.unchecked`.
public enum ThreatEngineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `cl_init` failed; libclamav is unusable in this process.
    case initializationFailed(String)
    /// `cl_engine_new` returned NULL (out of memory).
    case engineCreationFailed
    /// `cl_load` rejected the signatures in the directory.
    case signatureLoadFailed(directory: String, detail: String)
    /// `cl_engine_compile` failed.
    case compileFailed(String)
    /// The built-in database could not be written to a temporary directory.
    case builtinDatabaseUnwritable(String)

    public var description: String {
        switch self {
        case .initializationFailed(let detail): "libclamav initialisation failed: \(detail)"
        case .engineCreationFailed: "libclamav could not create an engine"
        case .signatureLoadFailed(let directory, let detail): "loading signatures from \(directory) failed: \(detail)"
        case .compileFailed(let detail): "compiling the signature engine failed: \(detail)"
        case .builtinDatabaseUnwritable(let detail): "writing the built-in signature database failed: \(detail)"
        }
    }
}
