import Logging
import Synchronization
import ThreatEngine

/// One libclamav log message, carried from the sandbox to moatd's log.
struct EngineMessage: Codable, Sendable {
    var severity: String
    var text: String

    var level: Logger.Level {
        switch severity {
        case "error": .error
        case "warning": .warning
        default: .info
        }
    }
}

/// libclamav's messages in a supervisor or worker, kept until the next reply takes them: the
/// sandbox's stderr is moatd's, and raw lines there would bypass its log format. A hostile file
/// can make libclamav talk a lot, so only the first few of each batch are kept.
enum EngineMessages {
    static let limit = 20
    private static let pending = Mutex<(messages: [EngineMessage], dropped: Int)>(([], 0))

    static func capture() {
        ClamMessages.setHandler { severity, text in
            let name = switch severity {
            case .error: "error"
            case .warning: "warning"
            case .info: "info"
            }
            pending.withLock { pending in
                if pending.messages.count < limit {
                    pending.messages.append(EngineMessage(severity: name, text: text))
                } else {
                    pending.dropped += 1
                }
            }
        }
    }

    /// What was logged since the last call.
    static func take() -> [EngineMessage] {
        pending.withLock { pending in
            var messages = pending.messages
            if pending.dropped > 0 {
                messages.append(EngineMessage(severity: "warning", text: "\(pending.dropped) more messages left out"))
            }
            pending = ([], 0)
            return messages
        }
    }
}
