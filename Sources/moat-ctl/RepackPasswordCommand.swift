import ArgumentParser
import MailD
import MoatConfig

struct RepackPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repack-password",
        abstract: "Print the password of the archive in a repacked message, from its identifier.",
        discussion: """
        The identifier is in the message's X-Moat-Archive-Id header and in its report. With \
        RepackPassword = HMAC(secret) the password is derived from the secret; if the secret has \
        changed since, give the one in force then with --secret.
        """)

    @OptionGroup var location: ConfigLocation

    @Argument(help: "The archive identifier (moat-...).")
    var archiveId: String

    @Option(help: "The HMAC secret to use instead of the configured one.")
    var secret: String?

    func run() throws {
        if let secret {
            print(ArchivePassword.derive(secret: secret, archiveId: archiveId))
            return
        }
        let config = try location.load()
        do throws(ArchivePassword.RecoveryFailure) {
            print(try ArchivePassword.recover(archiveId: archiveId, values: config.values))
        } catch {
            printError(error.description)
            throw CtlExit.failure
        }
    }
}
