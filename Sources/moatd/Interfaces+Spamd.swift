import InterfaceSupport

extension InterfaceServices {
    /// Not in this build yet; returns the listener once the Spamd interface exists.
    static func spamd(_ context: InterfaceContext) -> InterfaceListener? { nil }
}
