import ServiceLifecycle

extension GatewayServices {
    /// Not in this build yet: the service installing and removing the divert rules.
    static func firewall(_ context: InterfaceContext) -> (any Service)? { nil }
}
