import InterfaceSupport

extension InterfaceServices {
    /// Not in this build yet; returns the listener once the Clamd interface exists.
    static func clamd(_ context: InterfaceContext) -> InterfaceListener? { nil }
}
