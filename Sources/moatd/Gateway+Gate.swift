import Gate
import MoatConfig
import Logging
import ServiceLifecycle

extension GatewayServices {
    /// The Gate's transparent listener, when `[LinuxFirewall] InputDivert` is not Off.
    static func gate(_ context: InterfaceContext) -> (any Service)? {
        guard case .divert(let divert) = context.settings.current.values.value("LinuxFirewall", "InputDivert"),
              divert != .off else { return nil }
        return GateService(settings: context.settings, core: context.core, group: context.group,
                           logger: Logger(label: "Gate"))
    }
}
