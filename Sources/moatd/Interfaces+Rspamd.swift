import InterfaceSupport
import Logging
import MailD
import RspamdInterface

extension InterfaceServices {
    /// `[MailD] RspamdSocket`: rspamc, and Exim's `spamd_address = ... variant=rspamd`.
    static func rspamd(_ context: InterfaceContext) -> InterfaceListener? {
        let rspamd = context.settings.current.values.mailD.rspamd
        guard let address = rspamd.socket else { return nil }
        let service = RspamdService(core: context.core, profiles: ProfileCache(store: context.settings, name: "Rspamd"),
                                    spoolDirectory: context.state.filterSpool("rspamd"), logger: Logger(label: "MailD.Rspamd"))
        return RspamdSocket.listener(address: address, service: service, group: context.group,
                                     maxConnections: rspamd.maxConnections)
    }
}
