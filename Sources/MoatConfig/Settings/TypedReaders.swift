/// What the generated settings (`Generated/`) read values with. The loader has checked every
/// value against its parameter's type and the schema supplies the default of the rest, so a
/// value of another form can only mean the generated files are older than the schema:
/// that stops the process with the command that fixes it rather than running on a guess.
extension ConfigValues {
    func bool(_ key: ParameterKey) -> Bool { read(key, \.bool) }
    func integer(_ key: ParameterKey) -> Int { read(key, \.integer) }
    func decimal(_ key: ParameterKey) -> Double { read(key, \.decimal) }
    func duration(_ key: ParameterKey) -> ConfigDuration { read(key, \.duration) }
    func size(_ key: ParameterKey) -> ByteSize { read(key, \.size) }
    func text(_ key: ParameterKey) -> String { read(key, \.text) }
    func texts(_ key: ParameterKey) -> [String] { read(key) { $0.list?.compactMap(\.text) } }

    /// nil when the parameter is empty (the interface is off).
    func address(_ key: ParameterKey) -> ListenAddress? {
        read(key) { value -> ListenAddress?? in
            if case .address(let address) = value { return .some(address) }
            return nil
        }
    }

    /// The addresses of a list; an empty item names none.
    func addresses(_ key: ParameterKey) -> [ListenAddress] {
        read(key) { value in
            value.list?.compactMap { item -> ListenAddress? in
                if case .address(let address?) = item { return address }
                return nil
            }
        }
    }

    func repackPassword(_ key: ParameterKey) -> RepackPassword {
        read(key) { if case .repackPassword(let p) = $0 { p } else { nil } }
    }

    func divert(_ key: ParameterKey) -> DivertSetting {
        read(key) { if case .divert(let d) = $0 { d } else { nil } }
    }

    /// Stored as its canonical text (`ParameterType.logTarget`); one that no longer parses
    /// means Auto, as `LogTarget(parsing:)` of an empty value does.
    func logTarget(_ key: ParameterKey) -> LogTarget {
        (try? LogTarget(parsing: text(key))) ?? .auto
    }

    /// Choices are stored in the schema's spelling, which is the enumeration's raw value.
    func choice<Choice: RawRepresentable>(_ key: ParameterKey) -> Choice where Choice.RawValue == String {
        read(key) { $0.text.flatMap(Choice.init(rawValue:)) }
    }

    private func read<T>(_ key: ParameterKey, _ form: (ConfigValue) -> T?) -> T {
        guard let typed = form(value(key)) else {
            preconditionFailure("\(key) is not of the form its generated accessor reads: run scripts/gen-settings.sh")
        }
        return typed
    }
}
