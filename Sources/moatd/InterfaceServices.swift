import Foundation
import InterfaceSupport
import Logging
import MailD
import MoatConfig
import NIOCore

/// What a filter interface needs from the daemon to serve.
struct InterfaceContext: Sendable {
    let settings: SettingsStore
    let core: MailCore
    let group: any EventLoopGroup
}

/// The filter interfaces moatd runs: each contributes its listener in its own file
/// (`Interfaces+Milter.swift`, ...), or nil when its socket is not set.
enum InterfaceServices {
    static func listeners(_ context: InterfaceContext) -> [InterfaceListener] {
        [milter(context), spamd(context), rspamd(context), clamd(context)].compactMap { $0 }
    }

    static func address(_ values: ConfigValues, _ section: String, _ name: String) -> ListenAddress? {
        if case .address(let address?) = values.value(section, name) { return address }
        return nil
    }
}
