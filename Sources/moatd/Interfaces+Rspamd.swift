import InterfaceSupport
import Logging
import MailD
import RspamdInterface

extension InterfaceServices {
    /// `[MailD] RspamdSocket`: rspamc, and Exim's `spamd_address = ... variant=rspamd`.
    static func rspamd(_ context: InterfaceContext) -> InterfaceListener? {
        let values = context.settings.current.values
        guard let address = address(values, "MailD", "RspamdSocket") else { return nil }
        let service = RspamdService(core: context.core, profiles: ProfileCache(store: context.settings, name: "Rspamd"),
                                    spoolDirectory: filterSpoolDirectory(values, "rspamd"), logger: Logger(label: "MailD.Rspamd"))
        return RspamdSocket.listener(address: address, service: service, group: context.group,
                                     maxConnections: maxConnections(values, "MailD", "RspamdMaxConnections"))
    }
}
