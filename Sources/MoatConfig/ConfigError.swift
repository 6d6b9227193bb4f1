/// One problem found in a configuration file or a `cfset` request.
///
/// Shaped like swift-certificates' error: a `code` that scripts and tests match on, and the
/// facts an administrator needs to fix it (where, which parameter, what form was expected).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable, Codable {
        case unreadableFile
        case syntax
        case unknownSection
        case unknownParameter
        case badValue
        case duplicate
        case notAList
        case valueNotPresent
        case unwritableFile
        /// Not an error: a Dr.Web parameter or section Moat has no use for, skipped.
        case ignoredDrWebSetting
    }

    public var code: Code
    /// Path of the file, or nil when the value came from the command line.
    public var file: String?
    /// 1-based line number in `file`, when the problem sits on one line.
    public var line: Int?
    /// `Section.Parameter` (or just the section) the problem concerns.
    public var parameter: String?
    /// What is wrong, in a sentence fragment without trailing period.
    public var reason: String
    /// The form the value should have had, e.g. `a duration such as 30s or 5m`.
    public var expected: String?
    /// A known name close to the unknown one.
    public var suggestion: String?

    public init(
        _ code: Code, file: String? = nil, line: Int? = nil, parameter: String? = nil,
        reason: String, expected: String? = nil, suggestion: String? = nil
    ) {
        self.code = code
        self.file = file
        self.line = line
        self.parameter = parameter
        self.reason = reason
        self.expected = expected
        self.suggestion = suggestion
    }

    public var description: String {
        var text = ""
        if let file {
            text += file
            if let line { text += ":\(line)" }
            text += ": "
        } else if let line {
            text += "line \(line): "
        }
        if let parameter { text += "\(parameter): " }
        text += reason
        if let expected { text += "; expected \(expected)" }
        if let suggestion { text += "; did you mean \(suggestion)?" }
        return text
    }
}

/// Every problem of one file at once, so an administrator fixes them in one pass.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
