import InterfaceSupport
import Logging
import MailD
import SpamdInterface

extension InterfaceServices {
    /// `[MailD] SpamdSocket`: Exim's `spamd_address` and spamc.
    static func spamd(_ context: InterfaceContext) -> InterfaceListener? {
        let spamd = context.settings.current.values.mailD.spamd
        guard let address = spamd.socket else { return nil }
        let service = SpamdService(core: context.core, profiles: ProfileCache(store: context.settings, name: "Spamd"),
                                   spoolDirectory: context.state.filterSpool("spamd"),
                                   logger: Logger(label: "MailD.Spamd"))
        return SpamdSocket.listener(address: address, service: service, group: context.group,
                                    maxConnections: spamd.maxConnections)
    }
}
