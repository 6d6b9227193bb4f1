/// A time limit for a whole check (SPF, the blocklists): when it passes, the check's task is
/// cancelled, which cancels its DNS queries (the resolver answers a cancelled query at once),
/// and the caller gets `timedOut()` without waiting for any server.
enum Deadline {
    static func run<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async -> T,
                                 timedOut: @escaping @Sendable () -> T) async -> T {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await operation() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? timedOut()
        }
    }
}
