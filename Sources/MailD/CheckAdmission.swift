import Foundation
import Synchronization

/// How many large messages are parsed, decoded and scanned at once. A check holds, besides
/// the message, its decoded parts (1.5-2.5 times the message's size): with 200 sessions of
/// 10 MB each checked at once moatd peaked at 4-5 GB (Benchmarks/Scale). The CPU is what limits
/// the rate anyway, so large checks beyond the limit wait their turn, first come first served,
/// and the copies exist only for those running. A check's ScanTimeout counts from its admission.
///
/// A message under `smallMessage` bytes is let in at once: it holds about a megabyte at most
/// with its decoded parts, and the interfaces' connection limits bound how many there are. Queued behind
/// large ones it waited for their checks to end: 12 clients sending 10 MB messages held a
/// 143-byte message's check for up to a second (Benchmarks/Scale/RESULTS.md).
public final class CheckAdmission: Sendable {
    private struct State {
        var running = 0
        var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextID: UInt64 = 0
    }

    public let limit: Int
    /// Messages smaller than this skip the queue; the scan queue's small lane has the same bound.
    public static let smallMessage = 256 * 1024
    private let state = Mutex(State())

    /// The default: four checks per core, at least eight (parts of one message are scanned
    /// concurrently, and a check waits on the scan workers and on DNS part of its time).
    public static var defaultLimit: Int { max(8, 4 * ProcessInfo.processInfo.activeProcessorCount) }

    public init(limit: Int = CheckAdmission.defaultLimit) {
        self.limit = max(1, limit)
    }

    /// Large checks running now.
    public var running: Int { state.withLock { $0.running } }

    /// Runs `body` at once for a small message (`size` under `smallMessage`), else once a
    /// place is free. A caller cancelled while it waits is let in at once (its check then
    /// stops early on its own cancellation). nil `size`: not known, counted as large.
    public func run<T>(size: Int?, _ body: () async -> T) async -> T {
        if let size, size < Self.smallMessage { return await body() }
        await enter()
        defer { leave() }
        return await body()
    }

    private func enter() async {
        let id: UInt64? = state.withLock { state in
            if state.running < limit {
                state.running += 1
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let admitted = state.withLock { state -> Bool in
                    // A place freed (or a cancellation) between the first look and now.
                    if state.running < limit || Task.isCancelled {
                        state.running += 1
                        return true
                    }
                    state.waiting.append((id, continuation))
                    return false
                }
                if admitted { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                state.running += 1
                return state.waiting.remove(at: index).continuation
            }
            continuation?.resume()
        }
    }

    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            // The place passes straight to the first in line: `running` stays as it is.
            return state.waiting.removeFirst().continuation
        }
        next?.resume()
    }
}
