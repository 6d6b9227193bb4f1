import Foundation

/// Checks one rule's text; supplied by the Policy module, which sits above this one.
/// Returns nil when the rule is valid.
public typealias RuleValidator = @Sendable (_ key: ParameterKey, _ rule: String) -> ValueError?

/// A file that was read and fully validated.
public struct LoadedConfig: Sendable {
    public let file: String?
    public let document: INIDocument
    public let values: ConfigValues
    /// Dr.Web settings Moat read past (see `Schema+DrWebCompat.swift`); the daemon logs them.
    public var warnings: [ConfigError] = []
}

/// Reads a configuration file against the schema. Either the whole file is valid and a
/// `LoadedConfig` comes back, or every problem is reported and nothing is applied.
public struct ConfigLoader: Sendable {
    public let schema: Schema
    public let ruleValidator: RuleValidator?

    public init(schema: Schema = .moat, ruleValidator: RuleValidator? = nil) {
        self.schema = schema
        self.ruleValidator = ruleValidator
    }

    public func load(path: String) throws(ConfigErrors) -> LoadedConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ConfigErrors([ConfigError(.unreadableFile, file: path, reason: "the configuration file \(reason)")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([ConfigError(.unreadableFile, file: path, reason: "the file is not UTF-8 text")])
        }
        return try load(text: text, file: path)
    }

    /// One occurrence of a parameter in the file.
    struct Occurrence {
        var line: Int
        var number: Int?
        var value: ConfigValue
    }

    public func load(text: String, file: String? = nil) throws(ConfigErrors) -> LoadedConfig {
        let document = INIDocument(text: text)
        var errors: [ConfigError] = []
        var occurrences: [ParameterKey: [Occurrence]] = [:]
        var warnings: [ConfigError] = []
        var section: SectionSpec?
        var inUnknownSection = false

        for (i, line) in document.lines.enumerated() {
            let lineNumber = i + 1
            switch line.kind {
            case .blank, .comment:
                continue
            case .invalid:
                errors.append(ConfigError(.syntax, file: file, line: lineNumber,
                                          reason: "cannot read `\(line.raw.trimmingWhitespace())`",
                                          expected: "[Section], Name = value, or a comment starting with # or ;"))
            case .section(let name):
                section = schema.section(named: name)
                inUnknownSection = section == nil
                if section == nil, Schema.drWebOnlySections.contains(name.lowercased()) {
                    warnings.append(ConfigError(.ignoredDrWebSetting, file: file, line: lineNumber, parameter: name,
                                                reason: "Dr.Web section that Moat has no counterpart for; its lines are ignored"))
                } else if section == nil {
                    errors.append(ConfigError(.unknownSection, file: file, line: lineNumber, parameter: name,
                                              reason: "unknown section",
                                              suggestion: Suggestion.closest(to: name, among: schema.sections.map(\.name))
                                                .map { "[\($0)]" }))
                }
            case .entry(let key, let rawValue):
                if inUnknownSection { continue }
                guard let section else {
                    errors.append(ConfigError(.syntax, file: file, line: lineNumber, parameter: key,
                                              reason: "parameter outside any section",
                                              expected: "a [Section] line before it"))
                    continue
                }
                guard let (spec, number) = resolve(key, in: section) else {
                    if Schema.isDrWebOnly(key, in: section.name) {
                        warnings.append(ConfigError(.ignoredDrWebSetting, file: file, line: lineNumber,
                                                    parameter: "\(section.name).\(key)",
                                                    reason: "Dr.Web parameter that Moat does not use; ignored"))
                        continue
                    }
                    errors.append(ConfigError(.unknownParameter, file: file, line: lineNumber,
                                              parameter: "\(section.name).\(key)", reason: "unknown parameter",
                                              suggestion: Suggestion.closest(to: key, among: section.parameters.map(\.name))))
                    continue
                }
                let pkey = ParameterKey(section.name, spec.name)
                do throws(ValueError) {
                    let value = try spec.type.parse(rawValue)
                    if case .rules = spec.type, let ruleValidator {
                        for rule in value.texts {
                            if let problem = ruleValidator(pkey, rule) {
                                throw problem
                            }
                        }
                    }
                    occurrences[pkey, default: []].append(Occurrence(line: lineNumber, number: number, value: value))
                } catch {
                    errors.append(ConfigError(.badValue, file: file, line: lineNumber, parameter: pkey.description,
                                              reason: error.reason, expected: error.expected))
                }
            }
        }

        var explicit: [ParameterKey: ConfigValue] = [:]
        for (key, found) in occurrences {
            let spec = schema.spec(key)!
            do throws(ConfigError) {
                explicit[key] = try combine(found, spec: spec, key: key, file: file)
            } catch {
                errors.append(error)
            }
        }
        if !errors.isEmpty {
            throw ConfigErrors(errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) })
        }
        return LoadedConfig(file: file, document: document, values: ConfigValues(schema: schema, explicit: explicit),
                            warnings: warnings)
    }

    /// `Name` or, for lists, a numbered line `Name0`, `Name1`, ...
    func resolve(_ key: String, in section: SectionSpec) -> (ParameterSpec, Int?)? {
        if let spec = section.parameter(named: key) { return (spec, nil) }
        let digits = key.reversed().prefix(while: \.isASCIIDigitCharacter).count
        guard digits > 0, digits < key.count, let number = Int(key.suffix(digits)),
              let spec = section.parameter(named: String(key.dropLast(digits))), spec.type.isList
        else { return nil }
        return (spec, number)
    }

    /// Repeated and numbered lines of one parameter become one value: plain lines in file
    /// order, then numbered lines by their number.
    func combine(_ found: [Occurrence], spec: ParameterSpec, key: ParameterKey, file: String?) throws(ConfigError) -> ConfigValue {
        guard spec.type.isList else {
            if found.count > 1 {
                throw ConfigError(.duplicate, file: file, line: found[1].line, parameter: key.description,
                                  reason: "set again (first on line \(found[0].line)); only lists may repeat")
            }
            return found[0].value
        }
        var seen: [Int: Int] = [:]
        for o in found {
            guard let n = o.number else { continue }
            if let first = seen[n] {
                throw ConfigError(.duplicate, file: file, line: o.line, parameter: "\(key)\(n)",
                                  reason: "number \(n) is used twice (first on line \(first))")
            }
            seen[n] = o.line
        }
        let ordered = found.filter { $0.number == nil } + found.filter { $0.number != nil }.sorted { $0.number! < $1.number! }
        return .list(ordered.flatMap { $0.value.list ?? [] })
    }
}

extension ConfigLoader {
    /// The raw text of one parameter in a file that may not load as a whole: `moat-ctl reload`
    /// must still find the control socket of a daemon whose new file is broken, to be told so.
    public static func rawValue(of key: ParameterKey, inFileAt path: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let document = INIDocument(text: text)
        let sections = document.sectionOfEachLine()
        var found: String?
        for (i, line) in document.lines.enumerated() {
            guard case .entry(let name, let value) = line.kind,
                  sections[i]?.lowercased() == key.section.lowercased(),
                  name.lowercased() == key.name.lowercased() else { continue }
            found = value
        }
        return found
    }
}
