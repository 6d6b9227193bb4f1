import Gate
import LinuxFirewall
import Logging

extension GatewayServices {
    /// The service installing the divert rules (nftables table inet moat, policy routing) while
    /// moatd runs and removing them when it stops; nil while `[LinuxFirewall] InputDivert` is Off.
    /// It follows reloads through the settings store; its `status()` is the divert state.
    /// Protected ports the Gate would only relay blindly are not diverted (`BlindPorts`).
    static func firewall(_ context: InterfaceContext) -> FirewallService? {
        let values = context.settings.current.values
        guard DivertPlan(values: values) != nil else { return nil }
        return FirewallService(values: values, settings: context.settings, logger: Logger(label: "LinuxFirewall"),
                               notDiverted: { values, port in BlindPorts.reason(port: port, values: values) })
    }
}
