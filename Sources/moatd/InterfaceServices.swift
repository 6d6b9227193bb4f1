import DNS
import InterfaceSupport
import MailD
import MoatConfig
import MoatService
import NIOCore

/// What a filter interface needs from the daemon to serve.
struct InterfaceContext: Sendable {
    let settings: SettingsStore
    let core: MailCore
    let group: any EventLoopGroup
    /// The validating resolver (DANE in the Gate); nil when none could be made.
    var dns: (any DNSLookup)? = nil

    /// `[Root] VarDir` and what lies under it, as the settings say at start.
    var state: StateDirectories { StateDirectories(settings.current.values) }
}

/// The filter interfaces moatd runs: each contributes its listener in its own file
/// (`Interfaces+Milter.swift`, ...), or nil when its socket is not set.
enum InterfaceServices {
    static func listeners(_ context: InterfaceContext) -> [InterfaceListener] {
        [milter(context), spamd(context), rspamd(context), clamd(context)].compactMap { $0 }
    }
}
