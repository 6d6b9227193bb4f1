import InterfaceSupport
import Logging
import MilterInterface

extension InterfaceServices {
    /// The Milter listener when `[MailD] MilterSocket` is set.
    static func milter(_ context: InterfaceContext) -> InterfaceListener? {
        let values = context.settings.current.values
        guard let address = address(values, "MailD", "MilterSocket") else { return nil }
        let varDir = values.value("Root", "VarDir").text ?? "/var/lib/moat"
        return MilterInterface.listener(address: address, settings: context.settings, core: context.core,
                                        spoolDirectory: varDir + "/spool", group: context.group,
                                        logger: Logger(label: "MailD.Milter"))
    }
}
