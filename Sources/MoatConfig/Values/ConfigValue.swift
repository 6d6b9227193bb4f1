/// A parsed, validated parameter value.
public enum ConfigValue: Sendable, Hashable {
    case bool(Bool)
    case integer(Int)
    case duration(ConfigDuration)
    case size(ByteSize)
    /// Free text, paths, and enumerations (stored in their canonical spelling).
    case text(String)
    /// A socket address; nil when the parameter is left empty (the interface is off).
    case address(ListenAddress?)
    case repackPassword(RepackPassword)
    case divert(DivertSetting)
    case list([ConfigValue])

    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var integer: Int? { if case .integer(let n) = self { n } else { nil } }
    /// A `decimal` parameter's number.
    public var decimal: Double? { text.flatMap(Double.init) }
    public var duration: ConfigDuration? { if case .duration(let d) = self { d } else { nil } }
    public var size: ByteSize? { if case .size(let s) = self { s } else { nil } }
    public var text: String? { if case .text(let s) = self { s } else { nil } }
    public var list: [ConfigValue]? { if case .list(let l) = self { l } else { nil } }
    public var texts: [String] { list?.compactMap(\.text) ?? [] }
}
