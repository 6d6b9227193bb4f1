import ArgumentParser

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Have moatd reread its configuration file.",
        discussion: "An invalid file is refused: moatd keeps its settings, and the errors are printed (exit code 4).")

    @OptionGroup var location: ConfigLocation

    func run() throws {
        let response = try location.send(.reload)
        guard response.ok else {
            printError(response.message ?? "reload refused")
            throw CtlExit.reloadRefused
        }
        if let message = response.message { print(message) }
    }
}
