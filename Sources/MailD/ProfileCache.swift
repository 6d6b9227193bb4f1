import MoatConfig
import Synchronization

/// The profile of one interface for the settings in force, compiled once per reload rather
/// than per message. A front-end asks at the start of each connection (or message) and keeps
/// what it got: a reload applies to what starts afterwards.
public final class ProfileCache: Sendable {
    let store: SettingsStore
    let name: String
    private let cached = Mutex<(generation: Int, profile: CheckProfile)?>(nil)

    /// `name`: Milter, Spamd, Rspamd, LinuxFirewall or ClamD.
    public init(store: SettingsStore, name: String) {
        self.store = store
        self.name = name
    }

    public var current: CheckProfile {
        let snapshot = store.current
        if let hit = cached.withLock({ $0 }), hit.generation == snapshot.generation { return hit.profile }
        let profile = ProfileChoice.profile(named: name, values: snapshot.values)
        cached.withLock { $0 = (snapshot.generation, profile) }
        return profile
    }
}
