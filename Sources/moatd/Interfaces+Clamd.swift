import ClamdInterface
import InterfaceSupport
import Logging

extension InterfaceServices {
    /// `[ClamD] ClamdSocket`: clamdscan, clamav-milter and other clamd clients.
    static func clamd(_ context: InterfaceContext) -> InterfaceListener? {
        let clamD = context.settings.current.values.clamD
        guard let address = clamD.clamdSocket else { return nil }
        let service = ClamdService(core: context.core, settings: context.settings,
                                   spoolDirectory: context.state.filterSpool("clamd"), logger: Logger(label: "ClamD"))
        return ClamdSocket.listener(address: address, service: service, group: context.group,
                                    maxConnections: clamD.maxConnections)
    }
}
