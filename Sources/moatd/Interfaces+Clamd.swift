import ClamdInterface
import InterfaceSupport
import Logging

extension InterfaceServices {
    /// `[ClamD] ClamdSocket`: clamdscan, clamav-milter and other clamd clients.
    static func clamd(_ context: InterfaceContext) -> InterfaceListener? {
        let values = context.settings.current.values
        guard let address = address(values, "ClamD", "ClamdSocket") else { return nil }
        let service = ClamdService(core: context.core, settings: context.settings,
                                   spoolDirectory: filterSpoolDirectory(values, "clamd"), logger: Logger(label: "ClamD"))
        return ClamdSocket.listener(address: address, service: service, group: context.group,
                                    maxConnections: maxConnections(values, "ClamD", "MaxConnections"))
    }
}
