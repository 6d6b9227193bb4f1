import ArgumentParser
import Control
import MoatConfig
import Policy

struct CfSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cfset",
        abstract: "Change one parameter in the configuration file, then have moatd reload it.",
        discussion: """
        The whole file is validated with the change before anything is written; an invalid value \
        leaves the file untouched. Comments, order and other lines are kept byte for byte. \
        If moatd runs, it reloads; otherwise the change waits for its next start.
        """)

    @OptionGroup var location: ConfigLocation

    @Argument(help: "Section.Param, e.g. MailD.ReportLanguages.")
    var parameter: String

    @Argument(help: "The new value (the value to add or erase with -a/-e; none with -r).")
    var newValue: String?

    @Flag(name: .customShort("a"), help: "Add the value to a list.")
    var add = false

    @Flag(name: .customShort("e"), help: "Erase the value from a list.")
    var erase = false

    @Flag(name: .customShort("r"), help: "Reset the parameter to its default.")
    var reset = false

    func validate() throws {
        guard [add, erase, reset].filter({ $0 }).count <= 1 else {
            throw ValidationError("use at most one of -a, -e and -r")
        }
        if reset, newValue != nil { throw ValidationError("-r takes no value") }
        if !reset, newValue == nil { throw ValidationError("missing the value for \(parameter)") }
    }

    var edit: ConfigEdit {
        if reset { return .reset }
        if add { return .add(newValue!) }
        if erase { return .erase(newValue!) }
        return .set(newValue!)
    }

    func run() throws {
        let result: EditResult
        do throws(ConfigFileChange.Failure) {
            result = try ConfigFileChange.apply(edit, to: parameter, inFileAt: location.path,
                                                loader: ConfigLoader(ruleValidator: Policy.ruleValidator))
        } catch {
            printError(error.description)
            if case .invalid = error { throw CtlExit.invalidConfiguration }
            throw CtlExit.failure
        }
        guard result.changed else { return }
        try ReloadRequest.ifRunning(location)
    }
}

/// After a change to the file: a running daemon is told to reload; none running is fine.
enum ReloadRequest {
    static func ifRunning(_ location: ConfigLocation) throws {
        let socket = location.socketPath()
        guard ControlClient.isAnswering(socket) else { return }
        let response = try location.send(.reload)
        guard response.ok else {
            printError(response.message ?? "reload refused")
            throw CtlExit.reloadRefused
        }
    }
}
