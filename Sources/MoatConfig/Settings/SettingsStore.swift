import Synchronization

/// The settings a running daemon works with, swapped whole on reload.
///
/// Connections take a snapshot when they start and keep it to the end, so a reload changes
/// what new connections see and never what an established one is doing.
public final class SettingsStore: Sendable {
    public struct Snapshot: Sendable {
        public let config: LoadedConfig
        /// Increases by one on every successful reload; 0 is the configuration read at start.
        public let generation: Int
        public var values: ConfigValues { config.values }
    }

    private let state: Mutex<Snapshot>

    public init(_ config: LoadedConfig) {
        state = Mutex(Snapshot(config: config, generation: 0))
    }

    public var current: Snapshot { state.withLock { $0 } }

    /// Installs a new, already validated configuration and returns the keys whose effective
    /// value changed.
    @discardableResult
    public func replace(with config: LoadedConfig) -> [ParameterKey] {
        state.withLock { snapshot in
            let old = snapshot.config.values
            let changed = config.values.schema.allKeys.filter { old.value($0) != config.values.value($0) }
            snapshot = Snapshot(config: config, generation: snapshot.generation + 1)
            return changed
        }
    }
}
