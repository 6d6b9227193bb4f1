import InterfaceSupport
import Logging
import MilterInterface
import MoatConfig

extension InterfaceServices {
    /// The Milter listener when `[MailD] MilterSocket` is set.
    static func milter(_ context: InterfaceContext) -> InterfaceListener? {
        let values = context.settings.current.values
        guard let address = address(values, "MailD", "MilterSocket") else { return nil }
        let varDir = values.value("Root", "VarDir").text ?? "/var/lib/moat"
        var options = MilterInterface.Options()
        options.maxConnections = maxConnections(values, "MailD", "MilterMaxConnections")
        if let timeout = values.value("MailD", "MilterReadTimeout").duration {
            options.readTimeout = .milliseconds(Int64(timeout.milliseconds))
        }
        return MilterInterface.listener(address: address, settings: context.settings, core: context.core,
                                        spoolDirectory: varDir + "/spool", group: context.group,
                                        logger: Logger(label: "MailD.Milter"), options: options)
    }
}
