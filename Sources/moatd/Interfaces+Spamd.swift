import InterfaceSupport
import Logging
import MailD
import MoatConfig
import SpamdInterface

extension InterfaceServices {
    /// `[MailD] SpamdSocket`: Exim's `spamd_address` and spamc.
    static func spamd(_ context: InterfaceContext) -> InterfaceListener? {
        let values = context.settings.current.values
        guard let address = address(values, "MailD", "SpamdSocket") else { return nil }
        let service = SpamdService(core: context.core, profiles: ProfileCache(store: context.settings, name: "Spamd"),
                                   spoolDirectory: filterSpoolDirectory(values, "spamd"),
                                   logger: Logger(label: "MailD.Spamd"))
        return SpamdSocket.listener(address: address, service: service, group: context.group,
                                    maxConnections: maxConnections(values, "MailD", "SpamdMaxConnections"))
    }

    /// A listener's cap (`...MaxConnections`), read at start.
    static func maxConnections(_ values: MoatConfig.ConfigValues, _ section: String, _ name: String) -> Int {
        values.value(section, name).integer ?? InterfaceListener.defaultMaxConnections
    }

    /// Private directory for messages too large to hold in memory while they are checked.
    static func filterSpoolDirectory(_ values: MoatConfig.ConfigValues, _ name: String) -> String {
        (values.value("Root", "VarDir").text ?? "/var/lib/moat") + "/spool/\(name)"
    }
}
