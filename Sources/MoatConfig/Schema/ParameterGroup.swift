/// Parameters the schema declares together, once per prefix: `MilterScanTimeout`,
/// `MilterHeuristicAnalysis`, ... are the `ScanLimits` group under the prefix `Milter`. The
/// generated settings (`Settings/Generated`) turn each group into one type
/// (`ScanLimitsSettings`) and each use of it into one property (`mailD.milterScanLimits`),
/// so code that treats the interfaces alike does not spell parameter names.
public struct ParameterGroup: Sendable, Hashable {
    /// The stem of the generated type's name (`ScanLimits` makes `ScanLimitsSettings`).
    public let kind: String
    /// What precedes the member names in this use ("" when nothing does).
    public let prefix: String
    /// The property of the section's settings that holds this use (`milterScanLimits`).
    public let property: String

    public init(kind: String, prefix: String, property: String) {
        self.kind = kind
        self.prefix = prefix
        self.property = property
    }

    /// The member's name without the prefix (`ScanTimeout` for `MilterScanTimeout`).
    public func memberName(of parameter: String) -> String {
        String(parameter.dropFirst(prefix.count))
    }
}
