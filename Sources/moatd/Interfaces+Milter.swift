import InterfaceSupport
import Logging
import MilterInterface

extension InterfaceServices {
    /// The Milter listener when `[MailD] MilterSocket` is set.
    static func milter(_ context: InterfaceContext) -> InterfaceListener? {
        let mailD = context.settings.current.values.mailD
        guard let address = mailD.milter.socket else { return nil }
        var options = MilterInterface.Options()
        options.maxConnections = mailD.milter.maxConnections
        options.readTimeout = .milliseconds(mailD.milterReadTimeout.milliseconds)
        return MilterInterface.listener(address: address, settings: context.settings, core: context.core,
                                        spoolDirectory: context.state.coreSpool, group: context.group,
                                        logger: Logger(label: "MailD.Milter"), options: options)
    }
}
