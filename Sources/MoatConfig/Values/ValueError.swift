/// A value that does not fit its parameter's type. The loader adds file, line and parameter.
public struct ValueError: Error, Sendable, Equatable {
    public var reason: String
    public var expected: String
    public init(_ reason: String, expected: String) {
        self.reason = reason
        self.expected = expected
    }
}
