import Foundation
import Synchronization

/// How many messages are parsed, decoded and scanned at once. A check holds, besides the
/// message, its decoded parts (1.5-2.5 times the message's size): with 200 sessions of 10 MB
/// each checked at once moatd peaked at 4-5 GB (Benchmarks/Scale). The CPU is what limits the
/// rate anyway, so checks beyond the limit wait their turn, first come first served, and the
/// copies exist only for those running. A check's ScanTimeout counts from its admission.
///
/// Messages under `smallMessage` bytes have places of their own: queued behind large ones they
/// waited for those checks to end (12 clients sending 10 MB messages held a 143-byte message's
/// check for up to 2.4 s: Benchmarks/Scale/RESULTS.md). Their limit is higher, since one
/// holds about a megabyte at most with its decoded parts, and it still bounds what a flood of
/// connections can make moatd hold at once.
public final class CheckAdmission: Sendable {
    public let limit: Int
    public let smallLimit: Int
    /// Messages smaller than this take the small places; the scan queue's small lane has the
    /// same bound.
    public static let smallMessage = 256 * 1024
    private let large: AdmissionLane
    private let small: AdmissionLane

    /// The default: four checks per core, at least eight (parts of one message are scanned
    /// concurrently, and a check waits on the scan workers and on DNS part of its time).
    public static var defaultLimit: Int { max(8, 4 * ProcessInfo.processInfo.activeProcessorCount) }
    /// Small checks: sixteen per core, at least 64 (64 hold under 64 MB).
    public static var defaultSmallLimit: Int { max(64, 16 * ProcessInfo.processInfo.activeProcessorCount) }

    public init(limit: Int = CheckAdmission.defaultLimit, smallLimit: Int = CheckAdmission.defaultSmallLimit) {
        self.limit = max(1, limit)
        self.smallLimit = max(1, smallLimit)
        large = AdmissionLane(limit: self.limit)
        small = AdmissionLane(limit: self.smallLimit)
    }

    /// Checks of large messages running now.
    public var running: Int { large.running }
    /// Checks of small messages running now.
    public var runningSmall: Int { small.running }

    /// Runs `body` once a place is free, among the small places for a message under
    /// `smallMessage` bytes (nil `size`: not known, counted as large). A caller cancelled while
    /// it waits is let in at once (its check then stops early on its own cancellation).
    public func run<T>(size: Int?, _ body: () async -> T) async -> T {
        let lane = if let size, size < Self.smallMessage { small } else { large }
        await lane.enter()
        defer { lane.leave() }
        return await body()
    }
}

/// Places of one kind, first come first served.
private final class AdmissionLane: Sendable {
    private struct State {
        var running = 0
        var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextID: UInt64 = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    var running: Int { state.withLock { $0.running } }

    func enter() async {
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

    func leave() {
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
