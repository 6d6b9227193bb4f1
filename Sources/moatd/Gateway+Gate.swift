import ServiceLifecycle

extension GatewayServices {
    /// Not in this build yet: the Gate's transparent listener.
    static func gate(_ context: InterfaceContext) -> (any Service)? { nil }
}
