import ArgumentParser
import MoatConfig

/// Prints documents generated from the schema, so the README and etc/moat.ini cannot drift.
struct ConfigReference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-reference",
        abstract: "Print the configuration reference (Markdown) or the commented default file (--ini).")

    @Flag(help: "Print the commented default configuration file instead.")
    var ini = false

    func run() {
        print(ini ? SchemaDocument.defaultFile(Schema.moat) : SchemaDocument.markdown(Schema.moat), terminator: "")
    }
}
