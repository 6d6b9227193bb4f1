import CUnbound
import DNS
import Foundation

/// The daemon's one resolver: libunbound validating (DNSSEC) and caching, asked
/// asynchronously. One thread of its own owns the libunbound context: it hands queries to
/// `ub_resolve_async`, waits on the context's descriptor and a wake-up eventfd, runs
/// `ub_process` (which calls back with results) and cancels queries past their deadline.
/// Callers await; nothing blocks the cooperative pool. At most `maxPendingQueries` wait or
/// run at once, each answer is bounded in records and bytes, and every failure is an answer.
public final class UnboundResolver: DNSLookup, @unchecked Sendable {
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public let configuration: ResolverConfiguration
    private let context: OpaquePointer
    private let wakeFD: Int32
    private let lock = NSLock()
    // Under `lock`:
    private var submitted: [Query] = []
    private var pending = 0
    private var stopping = false
    private var wakeClosed = false
    private var nextID = 1
    /// Queries submitted and not yet answered; cancellations of them wait in `cancelled`.
    private var live: Set<Int> = []
    private var cancelled: [Int] = []
    /// Cancellations that came before their query was submitted (or, rarely, just after it
    /// was answered): a submission finding its id here is answered at once. Bounded.
    private var earlyCancels: Set<Int> = []
    private let stopped = DispatchSemaphore(value: 0)
    /// Answers still within their TTL, returned without asking libunbound.
    let answers: DNSAnswerCache
    /// Queries handed to libunbound (tests: a cached answer asks nothing).
    var queriesAsked: Int { lock.withLock { asked } }
    /// Under `lock`.
    private var asked = 0
    // Only on the resolver thread:
    private var inFlight: [Int: InFlight] = [:]

    struct Query {
        var id: Int
        var name: String
        var key: DNSAnswerCache.Key
        var type: DNSRecordType
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<DNSAnswer, Never>
    }

    struct InFlight {
        var query: Query
        var asyncID: Int32
        var token: UnsafeMutableRawPointer
    }

    /// What libunbound hands back to the callback as `mydata`.
    final class CallbackToken {
        unowned let resolver: UnboundResolver
        let id: Int
        init(_ resolver: UnboundResolver, _ id: Int) {
            self.resolver = resolver
            self.id = id
        }
    }

    public init(_ configuration: ResolverConfiguration) throws(SetupError) {
        self.configuration = configuration
        answers = DNSAnswerCache(capacity: configuration.answerCacheEntries, maxBytes: configuration.cacheBytes,
                                 maxTTL: .seconds(max(0, configuration.maxCacheTTL)))
        guard let context = ub_ctx_create() else { throw SetupError(description: "ub_ctx_create failed") }
        self.context = context
        do {
            try UnboundResolver.configure(context, configuration)
        } catch {
            ub_ctx_delete(context)
            throw error
        }
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wakeFD >= 0 else {
            ub_ctx_delete(context)
            throw SetupError(description: "eventfd: \(String(cString: strerror(errno)))")
        }
        let thread = Thread { [self] in run() }
        thread.name = "moat-dns"
        thread.start()
    }

    /// Stops the thread: queries still waiting are answered `.temporaryFailure`. The resolver
    /// answers every later query the same way.
    public func shutdown() {
        let first = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        wake()
        stopped.wait()
        ub_ctx_delete(context)
        // Under the lock: a caller that just submitted may still be about to wake the thread.
        lock.withLock {
            wakeClosed = true
            close(wakeFD)
        }
    }

    public func lookup(_ name: String, _ type: DNSRecordType) async -> DNSAnswer {
        guard let queryName = DNSQueryName.presentation(name) else {
            // No such name can exist (an empty or over-long label, over 253 characters).
            return DNSAnswer(.nxdomain)
        }
        let key = DNSAnswerCache.Key(name: queryName.lowercased(), type: type)
        if let cached = answers.answer(key) { return cached }
        let id = lock.withLock {
            defer { nextID += 1 }
            return nextID
        }
        // A cancelled caller (a deadline of SPF, the blocklists, a message) gets its answer
        // at once: the thread cancels the query in libunbound.
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let refusal: String? = lock.withLock {
                    if earlyCancels.remove(id) != nil { return "cancelled" }
                    if stopping { return "the resolver is stopped" }
                    if pending >= configuration.maxPendingQueries { return "too many DNS queries under way" }
                    pending += 1
                    asked += 1
                    live.insert(id)
                    let deadline = ContinuousClock.now.advanced(by: configuration.queryTimeout)
                    submitted.append(Query(id: id, name: queryName, key: key, type: type, deadline: deadline,
                                           continuation: continuation))
                    return nil
                }
                if let refusal {
                    continuation.resume(returning: DNSAnswer(.temporaryFailure(refusal)))
                } else {
                    wake()
                }
            }
        } onCancel: {
            let submitted = lock.withLock {
                if live.contains(id) {
                    cancelled.append(id)
                    return true
                }
                if earlyCancels.count >= 1024 { earlyCancels.removeAll() }
                earlyCancels.insert(id)
                return false
            }
            if submitted { wake() }
        }
    }

    private func wake() {
        var one: UInt64 = 1
        lock.withLock {
            if !wakeClosed { _ = write(wakeFD, &one, 8) }
        }
    }

    // MARK: The resolver thread

    private func run() {
        let unboundFD = ub_fd(context)
        while true {
            let (taken, stop, cancels) = lock.withLock {
                defer {
                    submitted.removeAll()
                    cancelled.removeAll()
                }
                return (submitted, stopping, cancelled)
            }
            if stop {
                for query in taken { finish(query, DNSAnswer(.temporaryFailure("the resolver is stopped"))) }
                for id in Array(inFlight.keys) { cancel(id, reason: "the resolver is stopped") }
                stopped.signal()
                return
            }
            for query in taken { start(query) }
            for id in cancels { cancel(id, reason: "cancelled") }
            var fds = [pollfd(fd: unboundFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, pollTimeout())
            if fds[1].revents != 0 {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
            }
            if fds[0].revents != 0 {
                // Calls `unboundCallback` for every finished query.
                ub_process(context)
            }
            let now = ContinuousClock.now
            for (id, entry) in inFlight where entry.query.deadline <= now {
                cancel(id, reason: "no answer within \(configuration.queryTimeout)")
            }
        }
    }

    private func pollTimeout() -> Int32 {
        guard let next = inFlight.values.map(\.query.deadline).min() else { return -1 }
        let left = ContinuousClock.now.duration(to: next)
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, ms + 1))
    }

    private func start(_ query: Query) {
        let token = Unmanaged.passRetained(CallbackToken(self, query.id)).toOpaque()
        var asyncID: Int32 = 0
        let status = ub_resolve_async(context, query.name, Int32(DNSWire.code(of: query.type)), 1, token,
                                      unboundCallback, &asyncID)
        guard status == 0 else {
            Unmanaged<CallbackToken>.fromOpaque(token).release()
            finish(query, DNSAnswer(.temporaryFailure("libunbound: \(String(cString: ub_strerror(status)))")))
            return
        }
        inFlight[query.id] = InFlight(query: query, asyncID: asyncID, token: token)
    }

    private func cancel(_ id: Int, reason: String) {
        guard let entry = inFlight.removeValue(forKey: id) else { return }
        // After ub_cancel libunbound never calls back for it: the token is ours to release.
        ub_cancel(context, entry.asyncID)
        Unmanaged<CallbackToken>.fromOpaque(entry.token).release()
        finish(entry.query, DNSAnswer(.temporaryFailure(reason)))
    }

    fileprivate func complete(_ id: Int, _ answer: DNSAnswer) {
        guard let entry = inFlight.removeValue(forKey: id) else { return }
        answers.store(answer, for: entry.query.key)
        finish(entry.query, answer)
    }

    private func finish(_ query: Query, _ answer: DNSAnswer) {
        lock.withLock {
            pending -= 1
            live.remove(query.id)
        }
        query.continuation.resume(returning: answer)
    }
}

/// libunbound's callback, run inside `ub_process` on the resolver thread.
private let unboundCallback: ub_callback_type = { data, error, result in
    guard let data else {
        if let result { ub_resolve_free(result) }
        return
    }
    let token = Unmanaged<UnboundResolver.CallbackToken>.fromOpaque(data).takeRetainedValue()
    let answer = UnboundAnswer.decode(error: error, result: result, limits: token.resolver.configuration)
    if let result { ub_resolve_free(result) }
    token.resolver.complete(token.id, answer)
}
