import CoreMetrics
import Synchronization

/// The handlers of the metrics moatd updates on every message and connection, made once per
/// label and dimensions and kept. Making one asks the factory each time: with Prometheus that
/// is a name check, a lock and a registry lookup for each of the five or six series a message
/// updates (21-25 K instructions a message on the Milter path with them, 17.5 K with this table).
///
/// The dimensions come from the configuration and from fixed keywords (interfaces, listeners,
/// verdicts, unchecked reasons), so the table stays small; past `capacity` entries, handlers
/// are made per use as before rather than kept, so no input can grow it without bound.
final class MetricHandles: Sendable {
    static let capacity = 512

    private let factory: any MetricsFactory
    private let tables = Mutex(MetricTables())

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func counter(_ label: String, _ dimensions: [(String, String)]) -> any CounterHandler {
        handler(\.counters, label, dimensions) { factory.makeCounter(label: label, dimensions: dimensions) }
    }

    func meter(_ label: String, _ dimensions: [(String, String)]) -> any MeterHandler {
        handler(\.meters, label, dimensions) { factory.makeMeter(label: label, dimensions: dimensions) }
    }

    func timer(_ label: String, _ dimensions: [(String, String)]) -> any TimerHandler {
        handler(\.timers, label, dimensions) { factory.makeTimer(label: label, dimensions: dimensions) }
    }

    private func handler<Handler: Sendable>(_ table: WritableKeyPath<MetricTables, [MetricKey: Handler]>, _ label: String,
                                            _ dimensions: [(String, String)], make: () -> Handler) -> Handler {
        let key = Self.key(label, dimensions)
        if let kept = tables.withLock({ $0[keyPath: table][key] }) { return kept }
        // Made outside the lock: the factory takes its own.
        let made = make()
        return tables.withLock { tables in
            if let kept = tables[keyPath: table][key] { return kept }
            if tables.count < Self.capacity { tables[keyPath: table][key] = made }
            return made
        }
    }

    /// Entries kept (tests).
    var count: Int { tables.withLock { $0.count } }

    /// Label and dimensions as a table key: compared part by part, never joined into one
    /// string (building that cost more than the registry lookup it saves).
    static func key(_ label: String, _ dimensions: [(String, String)]) -> MetricKey {
        var parts: [String] = []
        parts.reserveCapacity(dimensions.count * 2)
        for (name, value) in dimensions {
            parts.append(name)
            parts.append(value)
        }
        return MetricKey(label: label, dimensions: parts)
    }
}

/// A metric's label and its dimensions' names and values, in order.
struct MetricKey: Hashable, Sendable {
    let label: String
    let dimensions: [String]
}

/// What `MetricHandles` keeps, by kind.
struct MetricTables {
    var counters: [MetricKey: any CounterHandler] = [:]
    var meters: [MetricKey: any MeterHandler] = [:]
    var timers: [MetricKey: any TimerHandler] = [:]

    var count: Int { counters.count + meters.count + timers.count }
}
