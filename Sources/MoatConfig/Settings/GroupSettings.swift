/// Where one use of a parameter group lies: its section and the prefix of its members'
/// names (`[MailD]`, `Milter`). Only the generated section settings make one, with names
/// from the schema.
public struct GroupPlace: Sendable {
    let values: ConfigValues
    public let section: String
    public let prefix: String

    init(_ values: ConfigValues, section: String, prefix: String) {
        self.values = values
        self.section = section
        self.prefix = prefix
    }

    /// The key of a member, named as the group's type names it (`ScanTimeout`).
    func key(_ member: String) -> ParameterKey { ParameterKey(section, prefix + member) }
}

/// What every generated group type (`ScanLimitsSettings`, ...) has: the place of its use.
public protocol GroupSettings: Sendable {
    var place: GroupPlace { get }
}

extension GroupSettings {
    /// The section the members are in (`MailD`).
    public var section: String { place.section }
    /// What precedes the members' names (`Milter`; empty in most sections).
    public var prefix: String { place.prefix }
}
