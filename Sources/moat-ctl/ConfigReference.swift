import ArgumentParser
import MoatConfig
import MoatService

/// Prints documents generated from the schema, so the README and etc/moat.ini cannot drift.
struct ConfigReference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-reference",
        abstract: "Print the configuration reference (Markdown), the commented default file (--ini) or moat.ini(5) (--man).")

    @Flag(help: "Print the commented default configuration file instead.")
    var ini = false

    @Flag(help: "Print the manual page moat.ini(5) (roff) instead.")
    var man = false

    func run() {
        let text = if man {
            SchemaDocument.manPage(Schema.moat, version: MoatVersion.current)
        } else if ini {
            SchemaDocument.defaultFile(Schema.moat)
        } else {
            SchemaDocument.markdown(Schema.moat)
        }
        print(text, terminator: "")
    }
}
