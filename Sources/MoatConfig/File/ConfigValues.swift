/// The effective value of every parameter: what the file sets, and the schema's default for
/// the rest.
public struct ConfigValues: Sendable {
    public let schema: Schema
    /// Values the file gives explicitly (even when equal to the default).
    public let explicit: [ParameterKey: ConfigValue]

    public init(schema: Schema, explicit: [ParameterKey: ConfigValue] = [:]) {
        self.schema = schema
        self.explicit = explicit
    }

    public func value(_ key: ParameterKey) -> ConfigValue {
        if let v = explicit[key] { return v }
        guard let spec = schema.spec(key) else { preconditionFailure("\(key) is not in the schema") }
        return spec.defaultValue
    }

    public func value(_ section: String, _ name: String) -> ConfigValue { value(ParameterKey(section, name)) }

    /// True when the effective value differs from the default (what `cfshow --changed` lists).
    public func isChanged(_ key: ParameterKey) -> Bool {
        guard let v = explicit[key], let spec = schema.spec(key) else { return false }
        return v != spec.defaultValue
    }

    /// The value as `cfshow` prints it.
    public func formatted(_ key: ParameterKey) -> String {
        guard let spec = schema.spec(key) else { return "" }
        return spec.type.format(value(key))
    }
}
