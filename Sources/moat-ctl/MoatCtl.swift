import ArgumentParser

@main
struct MoatCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moat-ctl",
        abstract: "Control Moat: show and change its configuration, reload and inspect moatd.",
        discussion: """
        Exit codes: 0 success; 2 invalid configuration or value (nothing was written); \
        3 moatd is not running; 4 moatd refused the reload (it keeps its previous settings); \
        5 permission denied; 1 any other failure; 64 command-line usage error.
        """,
        subcommands: [CfShow.self, CfSet.self, Reload.self, AppInfoCommand.self, Scan.self, LearnCommand.self, RepackPasswordCommand.self, CertificateCommand.self, ConsolePasswordCommand.self, ARCKeyCommand.self, ConfigReference.self])
}
