/// What `moat-ctl cfset` asks for.
public enum ConfigEdit: Sendable, Equatable {
    /// Replace the value (a whole list, for lists).
    case set(String)
    /// `-a`: add one value to a list.
    case add(String)
    /// `-e`: erase one value from a list.
    case erase(String)
    /// `-r`: back to the default, by removing the parameter's lines.
    case reset
}

/// The result of an edit: the new file text, already validated as a whole.
public struct EditResult: Sendable {
    public let config: LoadedConfig
    public let key: ParameterKey
    /// False when the edit asked for what was already there (e.g. `-a` of a present value).
    public let changed: Bool
    public var text: String { config.document.text }
}

extension LoadedConfig {
    /// Applies one edit to the document, touching only the parameter's own lines, and
    /// re-validates the whole file. Throws with the reason when the result would not load.
    public func applying(_ edit: ConfigEdit, to dotted: String, loader: ConfigLoader) throws(ConfigErrors) -> EditResult {
        let schema = values.schema
        let key: ParameterKey
        let spec: ParameterSpec
        do throws(ConfigError) {
            (key, spec) = try schema.resolve(dotted)
        } catch {
            throw ConfigErrors([error])
        }
        func fail(_ code: ConfigError.Code, _ reason: String, expected: String? = nil) -> ConfigErrors {
            ConfigErrors([ConfigError(code, parameter: key.description, reason: reason, expected: expected)])
        }
        func parse(_ text: String) throws(ConfigErrors) -> ConfigValue {
            do throws(ValueError) {
                let value = try spec.type.parse(text)
                if case .rules = spec.type, let validator = loader.ruleValidator {
                    for rule in value.texts {
                        if let problem = validator(key, rule) { throw problem }
                    }
                }
                return value
            } catch {
                throw fail(.badValue, error.reason, expected: error.expected)
            }
        }

        let current = values.value(key)
        var newValue: ConfigValue?
        switch edit {
        case .set(let text):
            newValue = try parse(text)
        case .add(let text), .erase(let text):
            guard spec.type.isList, let items = current.list else {
                throw fail(.notAList, "is not a list; -a and -e work on lists only, use cfset without a flag")
            }
            let given = try parse(text).list ?? []
            if case .add = edit {
                let missing = given.filter { !items.contains($0) }
                if missing.isEmpty { return EditResult(config: self, key: key, changed: false) }
                newValue = .list(items + missing)
            } else {
                guard given.allSatisfy(items.contains) else {
                    throw fail(.valueNotPresent, "`\(text)` is not among the current values (\(spec.type.format(current)))")
                }
                newValue = .list(items.filter { !given.contains($0) })
            }
        case .reset:
            newValue = nil
        }

        var editor = DocumentEditor(document: document, schema: schema, loader: loader)
        editor.replace(key: key, spec: spec, with: newValue.map { spec.type.linesFor($0) })
        let newText = editor.document.text
        if newText == document.text { return EditResult(config: self, key: key, changed: false) }
        let reloaded = try loader.load(text: newText, file: file)
        return EditResult(config: reloaded, key: key, changed: true)
    }
}

extension ParameterType {
    /// The values to write, one string per line.
    func linesFor(_ value: ConfigValue) -> [String] {
        if case .rules = self { return value.texts }
        return [format(value)]
    }
}

/// Line surgery on an INI document for one parameter.
struct DocumentEditor {
    var document: INIDocument
    let schema: Schema
    let loader: ConfigLoader

    /// `# Name = value` or `;Name0=value`: a commented-out line of this parameter.
    static func isCommentedExample(_ raw: String, of name: String) -> Bool {
        var rest = Substring(raw).drop { $0 == "#" || $0 == ";" || $0 == " " || $0 == "\t" }
        guard rest.lowercased().hasPrefix(name.lowercased()) else { return false }
        rest = rest.dropFirst(name.count).drop { $0.isNumber }.drop { $0 == " " || $0 == "\t" }
        return rest.first == "="
    }

    /// Replaces every line of `key` by `values` (nil removes them, so the default applies).
    mutating func replace(key: ParameterKey, spec: ParameterSpec, with values: [String]?) {
        let sections = document.sectionOfEachLine()
        guard let sectionSpec = schema.section(named: key.section) else { return }
        var own: [Int] = []
        var numbered = false
        var spelling = spec.name
        for (i, line) in document.lines.enumerated() {
            guard case .entry(let name, _) = line.kind, let s = sections[i],
                  schema.section(named: s)?.name == sectionSpec.name,
                  let (found, number) = loader.resolve(name, in: sectionSpec), found.name == spec.name
            else { continue }
            if own.isEmpty { spelling = number == nil ? name : String(name.dropLast(String(number!).count)) }
            if number != nil { numbered = true }
            own.append(i)
        }
        let crlf = document.usesCRLF ? "\r" : ""
        var newLines: [INIDocument.Line] = []
        if let values {
            if values.isEmpty {
                newLines = [INIDocument.Line(raw: "\(spelling) =\(crlf)")]
            } else {
                for (n, value) in values.enumerated() {
                    let name = numbered || (spec.type.isRules && values.count > 1 && own.isEmpty) ? "\(spelling)\(n)" : spelling
                    newLines.append(INIDocument.Line(raw: "\(name) = \(value)\(crlf)"))
                }
            }
        }
        if let first = own.first {
            for i in own.reversed() { document.lines.remove(at: i) }
            document.lines.insert(contentsOf: newLines, at: first)
            return
        }
        guard !newLines.isEmpty else { return }
        // Not in the file yet: under its commented-out example (as in the shipped file), else
        // after the last parameter of its section, else in a new section.
        var lastEntry: Int?
        var header: Int?
        var example: Int?
        for (i, line) in document.lines.enumerated() {
            guard let s = sections[i], schema.section(named: s)?.name == sectionSpec.name else { continue }
            if case .section = line.kind, header == nil { header = i }
            if case .entry = line.kind { lastEntry = i }
            if case .comment = line.kind, Self.isCommentedExample(line.raw, of: spec.name) { example = i }
        }
        if let at = example ?? lastEntry ?? header {
            document.lines.insert(contentsOf: newLines, at: at + 1)
        } else {
            var tail = document.lines
            // Keep the file's trailing newline as the last (empty) element.
            let endsWithNewline = tail.last?.raw.isEmpty == true && tail.count > 1
            if endsWithNewline { tail.removeLast() }
            if let last = tail.last, last.kind != .blank { tail.append(INIDocument.Line(raw: crlf)) }
            tail.append(INIDocument.Line(raw: "[\(sectionSpec.name)]\(crlf)"))
            tail.append(contentsOf: newLines)
            tail.append(INIDocument.Line(raw: ""))
            document.lines = tail
        }
    }
}

extension ParameterType {
    var isRules: Bool { if case .rules = self { true } else { false } }
}
