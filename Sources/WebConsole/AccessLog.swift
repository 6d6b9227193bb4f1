import Foundation
import MoatConfig
import HTTPTypes
import Hummingbird
import Synchronization

/// `[HTTPD] AccessLogPath`: one line per request in the Common Log Format with the user agent
/// (`client - - [time] "GET /path HTTP/1.1" status - "agent"`); query strings and bodies are
/// never written. The path is read at each request, so a reload can start, move or stop it.
/// The file is created mode 0600.
final class AccessLog: Sendable {
    private let path: @Sendable () -> String?
    private let file = Mutex<(path: String, descriptor: Int32)?>(nil)

    init(path: @escaping @Sendable () -> String?) {
        self.path = path
    }

    deinit {
        file.withLock { if let open = $0 { close(open.descriptor) } }
    }

    func write(client: String, method: String, path requestPath: String, status: Int, agent: String?, now: Date = Date()) {
        guard let target = path(), !target.isEmpty else { return }
        let agentText = (agent ?? "-").replacingOccurrences(of: "\"", with: "'")
        let line = "\(client) - - [\(Self.timestamp(now))] \"\(method) \(Self.clean(requestPath)) HTTP/1.1\" \(status) - \"\(Self.clean(agentText))\"\n"
        file.withLock { open in
            if open?.path != target {
                if let previous = open { close(previous.descriptor) }
                let fd = Foundation.open(target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                open = fd >= 0 ? (target, fd) : nil
            }
            guard let descriptor = open?.descriptor else { return }
            let bytes = Array(line.utf8)
            _ = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
        }
    }

    /// Control characters would let a request forge log lines: escaped, as in every log
    /// (`LogText.escape`: also C1, line separators, bidi overrides; length capped).
    private static func clean(_ text: String) -> String {
        LogText.escape(text, maxLength: 2048)
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        return formatter.string(from: date)
    }
}

/// Writes each answered request to the access log, after the answer is made.
struct AccessLogMiddleware: RouterMiddleware {
    let log: AccessLog

    func handle(_ request: Request, context: ConsoleContext, next: (Request, ConsoleContext) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        log.write(client: context.client, method: request.method.rawValue, path: request.uri.path,
                  status: response.status.code, agent: request.headers[.userAgent])
        return response
    }
}
