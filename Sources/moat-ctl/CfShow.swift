import ArgumentParser
import MoatConfig

struct CfShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cfshow",
        abstract: "Show configuration values, one `Section.Param = value` a line.",
        discussion: "Reads the configuration file, so it works whether moatd runs or not. A rule set shows one rule a line.")

    @OptionGroup var location: ConfigLocation

    @Argument(help: "A section (MailD) or one parameter (MailD.ReportLanguages); all when omitted.")
    var what: String?

    @Flag(help: "Only parameters whose value differs from the default.")
    var changed = false

    @Flag(help: "Print values only, without `Section.Param = `.")
    var value = false

    func run() throws {
        let config = try location.load()
        let values = config.values
        let keys: [ParameterKey]
        if let what, what.contains(".") {
            do throws(ConfigError) {
                keys = [try values.schema.resolve(what).0]
            } catch {
                printError(error.description)
                throw CtlExit.invalidConfiguration
            }
        } else if let what {
            guard let section = values.schema.section(named: what) else {
                let hint = Suggestion.closest(to: what, among: values.schema.sections.map(\.name)).map { "; did you mean \($0)?" } ?? ""
                printError("unknown section `\(what)`\(hint)")
                throw CtlExit.invalidConfiguration
            }
            keys = section.parameters.map { ParameterKey(section.name, $0.name) }
        } else {
            keys = values.schema.allKeys
        }
        for key in keys where !changed || values.isChanged(key) {
            for line in values.shownLines(key, valueOnly: value) { print(line) }
        }
    }
}
