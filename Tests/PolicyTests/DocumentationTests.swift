import Foundation
import Testing
@testable import Policy

/// Sources/Policy/VARIABLES.md lists every variable, and every example in the table compiles.
struct DocumentationTests {
    static let docPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/Policy/VARIABLES.md").standardized.path

    static func row(_ v: Variable) -> String {
        let name = v.takesArgument ? "`\(v.name)(\"Name\")`" : "`\(v.name)`"
        let aliases = v.aliases.map { "`\($0)`" }.joined(separator: ", ")
        let example = v.example.replacingOccurrences(of: "|", with: "\\|")
        return "| \(name) | \(aliases) | \(v.type) | \(v.meaning) | `\(example)` |"
    }

    static var table: String {
        (["| Variable | Aliases | Type | Meaning | Example |", "|---|---|---|---|---|"] + Variable.all.map(row))
            .joined(separator: "\n")
    }

    @Test func everyVariableIsDocumented() throws {
        if ProcessInfo.processInfo.environment["POLICY_WRITE_VARIABLES_TABLE"] != nil {
            print(Self.table)
        }
        let doc = try String(contentsOfFile: Self.docPath, encoding: .utf8)
        #expect(doc.contains(Self.table), "regenerate the table: POLICY_WRITE_VARIABLES_TABLE=1 swift test --filter everyVariableIsDocumented")
    }

    @Test(arguments: Variable.all.map(\.name))
    func exampleCompiles(_ name: String) throws {
        let variable = try #require(Variable.named(name))
        _ = try RuleSet.compile([variable.example], name: "Doc", kind: .firewall, readFile: testReader)
    }

    @Test func namesAreUnique() {
        let names = Variable.allNames
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0 == $0.lowercased() })
    }
}
