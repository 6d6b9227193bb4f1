/// The Swift source of the typed settings (`Sources/MoatConfig/Settings/Generated`), written
/// from the schema by `scripts/gen-settings.sh`. Code elsewhere reads `values.linuxFirewall.gatePort`
/// instead of `values.value("LinuxFirewall", "GatePort").integer ?? 20025`: a misspelt name does
/// not compile, and the default is the schema's, stated once. A test compares the files in the
/// repository with this output, so they cannot drift from the schema.
public enum SettingsSource {
    public struct File: Sendable, Equatable {
        public let name: String
        public let text: String
    }

    /// Where the files live, relative to the repository.
    public static let directory = "Sources/MoatConfig/Settings/Generated"

    /// One file per section and one per group kind.
    public static func files(_ schema: Schema) -> [File] {
        schema.sections.map { File(name: "\(typeName(of: $0.name)).swift", text: sectionFile($0)) }
            + groupKinds(schema).map { File(name: "\($0.kind)Settings.swift", text: groupFile($0)) }
    }

    static let header = """
        // Generated from the schema (Sources/MoatConfig/Schema) by scripts/gen-settings.sh: do not edit.
        // MoatConfigTests' GeneratedSettingsTests fail when this file and the schema disagree.

        """

    // MARK: sections

    static func typeName(of section: String) -> String { "\(section)Settings" }

    static func sectionFile(_ section: SectionSpec) -> String {
        let type = typeName(of: section.name)
        var out = header + """

            extension ConfigValues {
                /// `[\(section.name)]`: \(section.summary).
                public var \(identifier(section.name)): \(type) { \(type)(values: self) }
            }

            /// `[\(section.name)]`: \(section.summary).
            public struct \(type): Sendable {
                /// Every parameter's key, for code that names one (restart-only lists, reports).
                public enum Key {

            """
        for p in section.parameters {
            out += "        public static let \(identifier(p.name)) = ParameterKey(\(literal(section.name)), \(literal(p.name)))\n"
        }
        out += "    }\n\n    public let values: ConfigValues\n"
        var groupsDone: Set<String> = []
        var enums: [(String, [String])] = []
        for p in section.parameters {
            if let group = p.group {
                guard groupsDone.insert(group.property).inserted else { continue }
                out += "\n    /// \(group.kind) parameters\(group.prefix.isEmpty ? "" : " `\(group.prefix)*`").\n"
                out += "    public var \(group.property): \(group.kind)Settings {\n"
                out += "        \(group.kind)Settings(place: GroupPlace(values, section: \(literal(section.name)), prefix: \(literal(group.prefix))))\n"
                out += "    }\n"
                continue
            }
            let form = swiftForm(p.type, enumName: p.name)
            if case .choice(let words) = p.type { enums.append((p.name, words)) }
            out += "\n    /// \(docLine(p)).\n"
            out += "    public var \(identifier(p.name)): \(form.type) { values.\(form.reader)(Key.\(identifier(p.name))) }\n"
        }
        out += choiceEnums(enums)
        out += "}\n"
        return out
    }

    // MARK: groups

    struct GroupKind {
        let kind: String
        /// The members, named without the prefix, from the first use (in `firstSection`).
        let firstSection: String
        let members: [ParameterSpec]
        let memberNames: [String]
        /// Every use: `mailD.milter`, `mailD.spamd`, ... (section accessor, group property).
        var uses: [(section: String, property: String)]
    }

    /// Every kind of group with its members; every use of a kind must have the same members
    /// of the same forms, or one type could not serve them all.
    static func groupKinds(_ schema: Schema) -> [GroupKind] {
        var kinds: [GroupKind] = []
        for section in schema.sections {
            var uses: [ParameterGroup: [ParameterSpec]] = [:]
            var order: [ParameterGroup] = []
            for p in section.parameters {
                guard let g = p.group else { continue }
                if uses[g] == nil { order.append(g) }
                uses[g, default: []].append(p)
            }
            for g in order {
                let members = uses[g]!
                let names = members.map { g.memberName(of: $0.name) }
                let use = (section: identifier(section.name), property: g.property)
                if let k = kinds.firstIndex(where: { $0.kind == g.kind }) {
                    let known = kinds[k]
                    let same = known.memberNames == names
                        && zip(known.members, members).allSatisfy { swiftForm($0.type, enumName: "").type == swiftForm($1.type, enumName: "").type }
                    precondition(same, "group \(g.kind) in [\(section.name)] (prefix \(g.prefix)) differs from its first use")
                    kinds[k].uses.append(use)
                } else {
                    kinds.append(GroupKind(kind: g.kind, firstSection: section.name, members: members, memberNames: names, uses: [use]))
                }
            }
        }
        return kinds
    }

    static func groupFile(_ group: GroupKind) -> String {
        let type = "\(group.kind)Settings"
        let all = group.uses.map { "\($0.section).\($0.property)" }.joined(separator: ", ")
        var out = header + """

            extension ConfigValues {
                /// Every use of the `\(group.kind)` parameters, in the schema's order.
                public var \(identifier(group.kind))Groups: [\(type)] { [\(all)] }
            }

            /// The `\(group.kind)` parameters of one section under one prefix (`ParameterGroup`).
            public struct \(type): GroupSettings {
                public let place: GroupPlace

            """
        var enums: [(String, [String])] = []
        for (p, name) in zip(group.members, group.memberNames) {
            let form = swiftForm(p.type, enumName: name)
            if case .choice(let words) = p.type { enums.append((name, words)) }
            // The summary names the first use's section or interface; it says so.
            out += "\n    /// `\(name)`, as `[\(group.firstSection)] \(p.name)`: \(sentence(p.summary)).\n"
            out += "    public var \(identifier(name)): \(form.type) { place.values.\(form.reader)(place.key(\(literal(name)))) }\n"
        }
        out += choiceEnums(enums)
        out += "}\n"
        return out
    }

    // MARK: forms

    /// The Swift type of a parameter and the `ConfigValues` reader (`TypedReaders.swift`).
    static func swiftForm(_ type: ParameterType, enumName: String) -> (type: String, reader: String) {
        switch type {
        case .bool: return ("Bool", "bool")
        case .integer: return ("Int", "integer")
        case .decimal: return ("Double", "decimal")
        case .duration: return ("ConfigDuration", "duration")
        case .size: return ("ByteSize", "size")
        case .text, .path, .languageCode: return ("String", "text")
        case .choice: return (enumName, "choice")
        case .address: return ("ListenAddress?", "address")
        case .repackPassword: return ("RepackPassword", "repackPassword")
        case .divert: return ("DivertSetting", "divert")
        case .logTarget: return ("LogTarget", "logTarget")
        case .rules: return ("[String]", "texts")
        case .list(.address, _): return ("[ListenAddress]", "addresses")
        case .list(.text, _), .list(.path, _), .list(.languageCode, _): return ("[String]", "texts")
        case .list(let element, _):
            preconditionFailure("no typed form for a list of \(element.expectedForm): add one to SettingsSource")
        }
    }

    /// One enumeration per word list; a parameter taking the same words as an earlier one
    /// (`[Root] LogLevel` and `DefaultLogLevel`) gets a name for that enumeration.
    static func choiceEnums(_ enums: [(String, [String])]) -> String {
        var out = ""
        var first: [[String]: String] = [:]
        for (name, words) in enums {
            if let earlier = first[words] {
                out += "\n    /// `\(name)` takes the words of `\(earlier)`.\n    public typealias \(name) = \(earlier)\n"
            } else {
                first[words] = name
                out += choiceEnum(name, words)
            }
        }
        return out
    }

    static func choiceEnum(_ name: String, _ words: [String]) -> String {
        var out = "\n    /// The words `\(name)` takes, as the file spells them.\n"
        out += "    public enum \(name): String, Sendable, CaseIterable {\n"
        for word in words { out += "        case \(identifier(word)) = \(literal(word))\n" }
        out += "    }\n"
        return out
    }

    static func docLine(_ p: ParameterSpec) -> String {
        let shown = p.defaultText.isEmpty ? "empty" : "`\(p.defaultText.split(separator: "\n").first ?? "")`"
        return "`\(p.name)`: \(sentence(p.summary)) (default \(shown)\(p.defaultText.contains("\n") ? ", ..." : ""))"
    }

    static func sentence(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: " ")
    }

    /// `GatePort` -> `gatePort`, `HTTPD` -> `httpd`, `ClamD` -> `clamD`; Swift keywords quoted.
    static func identifier(_ name: String) -> String {
        let chars = Array(name)
        var upper = 0
        while upper < chars.count, chars[upper].isUppercase { upper += 1 }
        // A leading run of capitals is one word, except its last letter when a lowercase
        // letter follows (it starts the next word: `URLPath` -> `urlPath`).
        let lowered = upper == chars.count || upper <= 1 ? upper : upper - 1
        let result = String(chars[..<max(lowered, 1)]).lowercased() + String(chars[max(lowered, 1)...])
        return keywords.contains(result) ? "`\(result)`" : result
    }

    static let keywords: Set<String> = ["default", "case", "switch", "in", "is", "as", "return", "true", "false", "nil", "self"]

    static func literal(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
