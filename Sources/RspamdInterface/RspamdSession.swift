import NIOCore

/// One rspamd connection apart from I/O. HTTP/1.1 may send several requests; HTTP/1.0 and
/// the legacy form one.
public struct RspamdSession: Sendable {
    enum State: Equatable { case awaitingHead, receiving(RspamdRequestHead), checking(RspamdRequestHead), closed }

    public enum Action: Equatable {
        case none
        case collect(ByteBuffer)
        case check(RspamdRequestHead)
        case reply([UInt8], close: Bool)
    }

    static let checkPaths: Set<String> = ["/checkv2", "/check", "/symbols", "/scan", "/process", "/report", "/report_ifspam"]
    /// rspamd controller's learning endpoints (`rspamc learn_spam`, `learn_ham`).
    static let learnPaths: Set<String> = ["/learnspam", "/learnham"]

    var state = State.awaitingHead
    public init() {}

    public mutating func received(_ part: RspamdRequestPart) -> Action {
        switch (state, part) {
        case (.awaitingHead, .head(let head)):
            state = .receiving(head)
            return .none
        case (.receiving, .body(let piece)):
            if case .receiving(let head) = state, Self.wantsBody(head) { return .collect(piece) }
            return .none
        case (.receiving(let head), .end):
            return route(head)
        case (.awaitingHead, .error(let e)), (.receiving, .error(let e)):
            let legacy: Bool
            if case .receiving(let head) = state, case .legacy = head.kind { legacy = true } else { legacy = false }
            state = .closed
            return .reply(RspamdReply.error(e, legacy: legacy), close: true)
        default:
            // After a reply that closes, or bytes the decoder would not produce: ignore.
            return .none
        }
    }

    static func wantsBody(_ head: RspamdRequestHead) -> Bool {
        switch head.kind {
        case .legacy: true
        case .http(_, let path, _): checkPaths.contains(Self.path(path)) || learnPaths.contains(Self.path(path))
        }
    }

    static func path(_ raw: String) -> String {
        String(raw.split(separator: "?", maxSplits: 1).first ?? "")
    }

    mutating func route(_ head: RspamdRequestHead) -> Action {
        switch head.kind {
        case .legacy(let command, let version):
            guard command == "CHECK" || command == "SYMBOLS", version.hasPrefix("RSPAMC/") else {
                state = .closed
                return .reply(RspamdReply.error(RspamdError(76, "EX_PROTOCOL unsupported command \(command) \(version)"), legacy: true), close: true)
            }
            state = .checking(head)
            return .check(head)
        case .http(let method, let rawPath, _):
            let path = Self.path(rawPath)
            if path == "/ping" {
                return finish(RspamdReply.http(status: 200, body: Array("pong\r\n".utf8), contentType: "text/plain", keepAlive: head.keepAlive), head)
            }
            guard Self.checkPaths.contains(path) || Self.learnPaths.contains(path) else {
                return finish(RspamdReply.http(status: 404, body: Array(#"{"error":"no such path","error_domain":"moat"}"#.utf8), keepAlive: head.keepAlive), head)
            }
            guard method == "POST" || method == "PUT" else {
                return finish(RspamdReply.http(status: 400, body: Array(#"{"error":"a message must be POSTed","error_domain":"moat"}"#.utf8), keepAlive: head.keepAlive), head)
            }
            state = .checking(head)
            return .check(head)
        }
    }

    mutating func finish(_ bytes: [UInt8], _ head: RspamdRequestHead) -> Action {
        state = head.keepAlive ? .awaitingHead : .closed
        return .reply(bytes, close: !head.keepAlive)
    }

    /// The check finished; `reply` is rendered for `head`.
    public mutating func checked(_ reply: [UInt8]) -> Action {
        guard case .checking(let head) = state else { return .none }
        return finish(reply, head)
    }

    public mutating func timedOut() -> Action {
        switch state {
        case .awaitingHead, .receiving:
            state = .closed
            return .reply(RspamdReply.error(RspamdError(408, "no input for too long"), legacy: false), close: true)
        default:
            return .none
        }
    }

    public var isIdle: Bool { state == .awaitingHead }
}
