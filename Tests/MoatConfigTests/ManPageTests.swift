import Testing
@testable import MoatConfig

/// moat.ini(5) is made from the schema: every section and parameter is in it, and nothing a
/// parameter's text says can become a roff request.
@Suite struct ManPageTests {
    @Test func everyParameterIsDocumented() {
        let page = SchemaDocument.manPage(.moat, version: "9.9.9")
        #expect(page.hasPrefix(".TH MOAT.INI 5 \"\" \"Moat 9.9.9\""))
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for section in Schema.moat.sections {
            #expect(lines.contains(".SH [\(section.name)]"), "section \(section.name)")
            for parameter in section.parameters {
                #expect(lines.contains(".B \(parameter.name)"), "\(section.name).\(parameter.name)")
            }
        }
        let requests = Set(lines.filter { $0.hasPrefix(".") }.map { String($0.prefix { $0 != " " }) })
        #expect(requests.isSubset(of: [".TH", ".SH", ".SS", ".TP", ".B", ".PP", ".br"]), "\(requests)")
    }

    @Test func textCannotStartARequest() {
        #expect(SchemaDocument.roff(".so /etc/passwd\n'x a-b \\") == "\\&.so /etc/passwd\n\\&'x a\\-b \\e")
    }
}
