import InterfaceSupport

extension InterfaceServices {
    /// Not in this build yet; returns the listener once the Rspamd interface exists.
    static func rspamd(_ context: InterfaceContext) -> InterfaceListener? { nil }
}
