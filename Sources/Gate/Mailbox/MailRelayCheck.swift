// Types shared by the POP3 and IMAP relay sessions (both live in the Gate module): how a held
// message is named, the verdict the core hands back, why a message went through unscanned and
// which leg injected bytes came from.

/// Names one held message between a `checkMessage` action and the `checkFinished` event.
/// Unique within one session; the core may run several checks at once and answer in any order.
public struct MailCheckID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "check#\(rawValue)" }
}

/// What the core decided about a held message.
public enum MailCheckVerdict: Sendable, Equatable {
    /// Deliver the server's bytes exactly as they were received.
    case pass
    /// Deliver these message bytes instead (a repacked message, or the replacement notice the core
    /// builds for a reject without repack). Plain message bytes: the session does the POP3
    /// dot-stuffing or the IMAP literal framing itself.
    case deliver([UInt8])
}

/// Why a message (or part of one) reached the client without being scanned.
public enum MailUncheckedReason: Sendable, Equatable {
    /// The message (or literal) is bigger than the session's hold limit; it was relayed as it came.
    case tooLarge(limit: Int)
    /// POP3 TOP while `ScanPop3Top` is off.
    case topNotScanned
    /// IMAP partial or per-part fetch (`BODY[1]`, `BODY[]<0.1024>`, `BODY[TEXT]`, `BINARY[2]`, ...):
    /// the item name as the server sent it.
    case partialFetch(item: String)
    /// The server closed the connection before the message was complete; nothing of it was sent.
    case truncatedByServer
}

/// Which side of the relay bytes came from.
public enum RelayPeer: Sendable, Equatable {
    case client
    case server
}
