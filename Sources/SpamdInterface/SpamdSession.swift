import NIOCore

/// One spamd connection, apart from I/O: parts from the decoder, the check's result and
/// timers in; what to do out. One request per connection, then close.
public struct SpamdSession: Sendable {
    enum State: Equatable {
        case awaitingHead
        case receiving(SpamdRequestHead)
        case checking(SpamdRequestHead)
        /// An error was answered before the client finished sending: close at its EOF.
        case draining
        case closed
    }

    public enum Action: Equatable {
        case none
        /// Append this piece of the message.
        case collect(ByteBuffer)
        /// The message is complete: check it, then call `checked`.
        case check(SpamdRequestHead)
        /// Write these bytes (possibly none), then close.
        case replyAndClose([UInt8])
        /// Write these bytes, keep reading (and discarding) until the client's EOF.
        case replyAndDrain([UInt8])
        case close
    }

    var state = State.awaitingHead

    public init() {}

    public mutating func received(_ part: SpamdRequestPart) -> Action {
        switch (state, part) {
        case (.awaitingHead, .head(let head)):
            switch head.method {
            case .ping:
                state = .closed
                return .replyAndClose(SpamdReply.pong)
            case .skip:
                state = .closed
                return .close
            case .tell where SpamdReply.tellRequest(head) == nil:
                state = .draining
                return .replyAndDrain(Array(SpamdError(.unavailable, "Service Unavailable: TELL to a remote database is not supported; use Set: local or Remove: local").line.utf8))
            default:
                state = .receiving(head)
                return .none
            }
        case (.receiving, .body(let piece)):
            return .collect(piece)
        case (.receiving(let head), .end):
            state = .checking(head)
            return .check(head)
        case (.awaitingHead, .error(let error)), (.receiving, .error(let error)):
            state = .draining
            return .replyAndDrain(Array(error.line.utf8))
        case (.checking, _), (.draining, _), (.closed, _):
            // Anything after the request is ignored (the decoder swallows it anyway).
            return .none
        case (.awaitingHead, .body), (.awaitingHead, .end), (.receiving, .head):
            // The decoder never produces these; refuse rather than trust the state.
            state = .draining
            return .replyAndDrain(Array(SpamdError(.software, "EX_SOFTWARE internal protocol state error").line.utf8))
        }
    }

    /// The check finished and `reply` is rendered.
    public mutating func checked(_ reply: [UInt8]) -> Action {
        guard case .checking = state else { return .none }
        state = .closed
        return .replyAndClose(reply)
    }

    /// The client's EOF (after the decoder saw it).
    public mutating func inputClosed() -> Action {
        switch state {
        case .draining:
            state = .closed
            return .close
        default:
            return .none
        }
    }

    /// The client stayed silent too long, or the whole request took too long.
    public mutating func timedOut() -> Action {
        switch state {
        case .awaitingHead, .receiving:
            state = .closed
            return .replyAndClose(Array(SpamdError(.timeout, "Timeout: (no input for too long)").line.utf8))
        case .draining:
            state = .closed
            return .close
        case .checking, .closed:
            return .none
        }
    }

    public var isChecking: Bool { if case .checking = state { true } else { false } }
}
