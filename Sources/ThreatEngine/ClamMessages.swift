import CClamAV
import Foundation
import Synchronization

/// Severity of a libclamav log message.
public enum ClamMessageSeverity: Sendable, Hashable {
    case info
    case warning
    case error
}

/// libclamav prints warnings and errors ("LibClamAV Error: Can't load ...") to stderr. moatd
/// routes them into its logger instead with `setHandler`.
public enum ClamMessages {
    public typealias Handler = @Sendable (ClamMessageSeverity, String) -> Void

    private static let handler = Mutex<Handler?>(nil)

    /// libclamav wants its message callback set before it is used from several threads; the
    /// C function is installed once, the Swift handler behind it can change at any time.
    private static let installed: Void = {
        cl_set_clcb_msg { severity, fullMessage, message, _ in
            ClamMessages.deliver(severity: severity, fullMessage: fullMessage, message: message)
            // libclamav reports some failures only here and then answers CL_CLEAN: 1.4 does so
            // when it cannot create a scan's temporary directory, so the file was not looked
            // at. An error logged during a scan makes that scan unchecked, never clean. (Its
            // context argument is NULL for that message: the scan is found by its thread.)
            if severity == CL_MSG_ERROR, let scan = ScanContext.current {
                let text = message.map { String(cString: $0) } ?? "libclamav error"
                scan.record(.engineError(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
        }
    }()

    /// Installs the callback (libclamav's default prints to stderr).
    static func install() {
        _ = installed
    }

    /// Sends libclamav's messages to `handler` (nil: back to stderr). Call it at start-up,
    /// before the first `ThreatScanner` is made.
    public static func setHandler(_ newHandler: Handler?) {
        _ = installed
        handler.withLock { $0 = newHandler }
    }

    private static func deliver(severity: cl_msg, fullMessage: UnsafePointer<CChar>?, message: UnsafePointer<CChar>?) {
        guard let current = handler.withLock({ $0 }) else {
            if let fullMessage { _ = write(STDERR_FILENO, fullMessage, strlen(fullMessage)) }
            return
        }
        let text = message.map { String(cString: $0) } ?? ""
        let level: ClamMessageSeverity = switch severity {
        case CL_MSG_ERROR: .error
        case CL_MSG_WARN: .warning
        default: .info
        }
        current(level, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
