import Foundation
import Logging
import Synchronization

/// Takes writes from the mail path without ever making it wait, and puts them into the
/// database in batches from a task of its own (`run`). Bounded in memory (`maxQueued` log
/// rows; more are dropped and counted). When the database fails, writes go to the local
/// buffer file (`PendingBuffer`) and are replayed, in order, once it answers again; inserts
/// are idempotent by id, so a batch sent twice after a lost answer counts once.
public final class StorageWriter: Sendable {
    public let store: any GatewayStore
    let buffer: PendingBuffer
    let maxQueued: Int
    let batchSize: Int
    let interval: Duration
    let retryInterval: Duration
    let logger: Logger

    private struct State {
        var queue: [StorageWrite] = []
        var counters = WriterCounters()
        var nextRetry = ContinuousClock.now
    }
    private let state = Mutex(State())
    private let requests: AsyncStream<CheckedContinuation<Void, Never>?>
    private let requestSink: AsyncStream<CheckedContinuation<Void, Never>?>.Continuation

    public init(store: any GatewayStore, bufferPath: String, maxQueued: Int = 10_000, maxBufferBytes: Int = 256 << 20,
                batchSize: Int = 500, interval: Duration = .milliseconds(200), retryInterval: Duration = .seconds(2),
                logger: Logger = Logger(label: "Storage")) {
        self.store = store
        self.buffer = PendingBuffer(path: bufferPath, maxBytes: maxBufferBytes)
        self.maxQueued = maxQueued
        self.batchSize = batchSize
        self.interval = interval
        self.retryInterval = retryInterval
        self.logger = logger
        (requests, requestSink) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        state.withLock { $0.counters.bufferBytes = buffer.size }
    }

    /// Never blocks: a lock, an append. A full queue drops log rows (counted).
    public func enqueue(_ write: StorageWrite) {
        let wake = state.withLock { s -> Bool in
            if write.isLog, s.queue.count >= maxQueued {
                s.counters.dropped += 1
                return false
            }
            s.queue.append(write)
            s.counters.queued = s.queue.count
            return s.queue.count == batchSize
        }
        if wake { requestSink.yield(nil) }
    }

    public var counters: WriterCounters { state.withLock { $0.counters } }

    /// Waits until everything enqueued before the call went to the database or the buffer
    /// file (needs `run`).
    public func flush() async {
        await withCheckedContinuation { continuation in
            // The loop has ended (moatd stopping): nothing will drain any more.
            if case .terminated = requestSink.yield(continuation) { continuation.resume() }
        }
    }

    /// The writer's loop: drains every `interval`, on a full batch and on `flush`; when the
    /// task is cancelled (moatd stopping) it drains a last time, to the buffer file if the
    /// database does not answer.
    public func run() async {
        let ticker = Task { [requestSink, interval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                requestSink.yield(nil)
            }
        }
        await withTaskCancellationHandler {
            for await waiter in requests {
                await drain()
                waiter?.resume()
            }
        } onCancel: { [requestSink] in
            requestSink.finish()
        }
        ticker.cancel()
        await drain()
    }

    /// One pass: the buffer file first (older), then memory, in batches.
    func drain() async {
        let up = state.withLock { $0.counters.databaseUp }
        if !up {
            spillQueue()
            guard state.withLock({ ContinuousClock.now >= $0.nextRetry }) else { return }
        }
        if buffer.size > 0 {
            let (writes, unreadable) = buffer.readAll()
            do {
                for start in stride(from: 0, to: writes.count, by: batchSize) {
                    try await write(Array(writes[start..<min(start + batchSize, writes.count)]))
                }
                buffer.clear()
                state.withLock {
                    $0.counters.replayed += writes.count
                    $0.counters.dropped += unreadable
                    $0.counters.bufferBytes = 0
                }
                recovered()
            } catch {
                failed(error)
                spillQueue()
                return
            }
        }
        while true {
            let batch = state.withLock { s -> [StorageWrite] in
                let batch = Array(s.queue.prefix(batchSize))
                s.queue.removeFirst(batch.count)
                s.counters.queued = s.queue.count
                return batch
            }
            if batch.isEmpty { return }
            do {
                try await write(batch)
                recovered()
            } catch {
                failed(error)
                spill(batch)
                spillQueue()
                return
            }
        }
    }

    private func write(_ batch: [StorageWrite]) async throws {
        var logs: [MessageLogEntry] = []
        var records: [QuarantineRecord] = []
        var contents: [(String, String)] = []
        for write in batch {
            switch write {
            case .log(let entry): logs.append(entry)
            case .quarantine(let record, let path):
                records.append(record)
                if let path { contents.append((record.id, path)) }
            }
        }
        // Content before the row: a node that lists the row can always fetch the bytes.
        if store.isShared {
            for (id, path) in contents {
                if let data = FileManager.default.contents(atPath: path) { try await store.putContent(id: id, bytes: [UInt8](data)) }
            }
        }
        try await store.insertQuarantine(records)
        try await store.insertLog(logs)
        state.withLock { $0.counters.written += batch.count }
    }

    private func spillQueue() {
        let all = state.withLock { s -> [StorageWrite] in
            let all = s.queue
            s.queue.removeAll()
            s.counters.queued = 0
            return all
        }
        spill(all)
    }

    private func spill(_ writes: [StorageWrite]) {
        guard !writes.isEmpty else { return }
        do {
            let rejected = try buffer.append(writes)
            state.withLock {
                $0.counters.buffered += writes.count - rejected.count
                $0.counters.dropped += rejected.count
                $0.counters.bufferBytes = buffer.size
            }
            if !rejected.isEmpty { logger.error("the storage buffer \(buffer.path) is full: \(rejected.count) log rows dropped") }
        } catch {
            // Nowhere to put them: back to memory (bounded by enqueue) for the next pass.
            logger.error("cannot write the storage buffer \(buffer.path): \(error)")
            state.withLock { s in
                s.queue.insert(contentsOf: writes, at: 0)
                let excess = s.queue.count - maxQueued
                if excess > 0 {
                    let logs = s.queue.indices.filter { s.queue[$0].isLog }.prefix(excess)
                    for index in logs.reversed() { s.queue.remove(at: index) }
                    s.counters.dropped += logs.count
                }
                s.counters.queued = s.queue.count
            }
        }
    }

    private func failed(_ error: any Error) {
        let wasUp = state.withLock { s -> Bool in
            let wasUp = s.counters.databaseUp
            s.counters.databaseUp = false
            s.counters.failures += 1
            s.counters.lastError = "\(error)"
            s.nextRetry = ContinuousClock.now + retryInterval
            return wasUp
        }
        if wasUp {
            logger.error("the \(store.backendName) database failed; the message log waits in \(buffer.path): \(error)")
        }
    }

    private func recovered() {
        let wasDown = state.withLock { s -> Bool in
            let wasDown = !s.counters.databaseUp
            s.counters.databaseUp = true
            return wasDown
        }
        if wasDown { logger.notice("the \(store.backendName) database answers again; the buffered writes were replayed") }
    }
}
