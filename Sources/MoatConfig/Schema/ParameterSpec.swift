/// One parameter of the configuration: declared once, used by the loader, `cfshow`, `cfset`,
/// the shipped `etc/moat.ini` and the README's reference.
public struct ParameterSpec: Sendable {
    public let name: String
    public let type: ParameterType
    /// The default as it would be written in the file.
    public let defaultText: String
    public let summary: String
    /// The parsed default; the schema's own test proves every default parses.
    public let defaultValue: ConfigValue
    /// The set of parameters declared together that this one belongs to (a filter
    /// interface's scan limits, a component's logging), so the generated typed settings
    /// offer them as one value; nil for a parameter of its own.
    public private(set) var group: ParameterGroup?
    /// The value holds a password, token or key that pages other than root's own file must
    /// not show (the console): see `SecretText`.
    public private(set) var isSecret = false

    public init(_ name: String, _ type: ParameterType, default defaultText: String, _ summary: String) {
        self.name = name
        self.type = type
        self.defaultText = defaultText
        self.summary = summary
        do {
            if case .rules = type {
                self.defaultValue = .list(defaultText.split(separator: "\n").map { .text(String($0)) })
            } else {
                self.defaultValue = try type.parse(defaultText)
            }
        } catch {
            preconditionFailure("schema default of \(name) does not parse: \(error)")
        }
    }

    /// The same parameter, its value a secret.
    func secret() -> ParameterSpec {
        var hidden = self
        hidden.isSecret = true
        return hidden
    }

    /// The same parameter, declared as a member of `group`.
    func inGroup(_ group: ParameterGroup) -> ParameterSpec {
        var member = self
        member.group = group
        return member
    }
}

public struct SectionSpec: Sendable {
    public let name: String
    public let summary: String
    public let parameters: [ParameterSpec]
    private let index: [String: Int]

    public init(_ name: String, _ summary: String, _ parameters: [ParameterSpec]) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        var index: [String: Int] = [:]
        for (i, p) in parameters.enumerated() {
            precondition(index[p.name.lowercased()] == nil, "parameter \(name).\(p.name) declared twice")
            index[p.name.lowercased()] = i
        }
        self.index = index
    }

    public func parameter(named name: String) -> ParameterSpec? {
        index[name.lowercased()].map { parameters[$0] }
    }
}

/// Names one parameter, in the schema's spelling.
public struct ParameterKey: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let section: String
    public let name: String
    public init(_ section: String, _ name: String) {
        self.section = section
        self.name = name
    }
    public var description: String { "\(section).\(name)" }
    public static func < (a: ParameterKey, b: ParameterKey) -> Bool { a.description < b.description }
}

/// The whole set of sections Moat understands.
public struct Schema: Sendable {
    public let sections: [SectionSpec]
    private let index: [String: Int]

    public init(_ sections: [SectionSpec]) {
        self.sections = sections
        var index: [String: Int] = [:]
        for (i, s) in sections.enumerated() { index[s.name.lowercased()] = i }
        self.index = index
    }

    public func section(named name: String) -> SectionSpec? { index[name.lowercased()].map { sections[$0] } }

    public func spec(_ key: ParameterKey) -> ParameterSpec? { section(named: key.section)?.parameter(named: key.name) }

    /// Resolves `Section.Param` typed by a person (any case) to the schema's key, or explains.
    public func resolve(_ dotted: String) throws(ConfigError) -> (ParameterKey, ParameterSpec) {
        let parts = dotted.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw ConfigError(.unknownParameter, parameter: dotted, reason: "is not of the form Section.Parameter")
        }
        guard let section = section(named: parts[0]) else {
            throw ConfigError(.unknownSection, parameter: dotted, reason: "unknown section `\(parts[0])`",
                              suggestion: Suggestion.closest(to: parts[0], among: sections.map(\.name)))
        }
        guard let spec = section.parameter(named: parts[1]) else {
            throw ConfigError(.unknownParameter, parameter: dotted, reason: "unknown parameter",
                              suggestion: Suggestion.closest(to: parts[1], among: section.parameters.map(\.name))
                                .map { "\(section.name).\($0)" })
        }
        return (ParameterKey(section.name, spec.name), spec)
    }

    public var allKeys: [ParameterKey] {
        sections.flatMap { s in s.parameters.map { ParameterKey(s.name, $0.name) } }
    }
}
