// Types shared by the POP3 and IMAP relay sessions (both live in the Gate module): how a held
// message is named, the verdict the core hands back, why a message went through unscanned, and
// the ordered output queue that keeps replies in server order while some of them are held.
import NIOCore

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

/// Bytes to the client in server order. Complete replies that wait for a verdict sit in the queue
/// as `held`; everything behind them waits too (POP3 and IMAP clients match replies by position).
struct OrderedRelayOutput<Held: Sendable>: Sendable {
    enum Item: Sendable {
        case ready(ByteBuffer)
        case held(MailCheckID, Held)
    }

    private var items = CircularBuffer<Item>()
    private(set) var bufferedBytes = 0

    var isEmpty: Bool { items.isEmpty }
    var heldCount: Int {
        items.reduce(0) { if case .held = $1 { return $0 + 1 } else { return $0 } }
    }

    mutating func append(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        bufferedBytes += bytes.readableBytes
        if let last = items.last, case .ready(var buffer) = last {
            items.removeLast()
            var copy = bytes
            buffer.writeBuffer(&copy)
            items.append(.ready(buffer))
        } else {
            items.append(.ready(bytes))
        }
    }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        append(ByteBuffer(bytes: bytes))
    }

    mutating func hold(_ id: MailCheckID, _ held: Held) {
        items.append(.held(id, held))
    }

    func held(_ id: MailCheckID) -> Held? {
        for item in items {
            if case .held(let itemID, let held) = item, itemID == id { return held }
        }
        return nil
    }

    /// Replaces the held item `id` by its final bytes. Returns false for an unknown id.
    mutating func resolve(_ id: MailCheckID, with bytes: ByteBuffer) -> Bool {
        guard let index = items.firstIndex(where: { if case .held(id, _) = $0 { return true } else { return false } })
        else { return false }
        items[index] = .ready(bytes)
        bufferedBytes += bytes.readableBytes
        return true
    }

    /// Removes and returns the ready bytes at the head of the queue (nil when the head is held or
    /// the queue is empty).
    mutating func drain() -> ByteBuffer? {
        var result: ByteBuffer?
        while let first = items.first, case .ready(var buffer) = first {
            items.removeFirst()
            bufferedBytes -= buffer.readableBytes
            if result == nil { result = buffer } else { result!.writeBuffer(&buffer) }
        }
        return result
    }

    /// Drops everything (used when a session closes).
    mutating func removeAll() {
        items.removeAll()
        bufferedBytes = 0
    }
}
