import InterfaceSupport

extension InterfaceServices {
    /// Not in this build yet; returns the listener once the Milter interface exists.
    static func milter(_ context: InterfaceContext) -> InterfaceListener? { nil }
}
