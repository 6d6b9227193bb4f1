import NIOCore

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
