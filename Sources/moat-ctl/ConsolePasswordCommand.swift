import ArgumentParser
import Foundation
import MoatConfig
import MoatService
import WebConsole

struct ConsolePasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console-password",
        abstract: "Set the password of the web console's user admin.",
        discussion: """
        Reads the new password from standard input (one line) or, on a terminal, asks for it twice \
        without echo. Stores a salted PBKDF2-SHA256 hash in VarDir/console/passwd (mode 0600) and \
        removes VarDir/console/initial-password. The next login uses it; moatd need not restart.
        """)

    @OptionGroup var location: ConfigLocation

    func run() throws {
        let config = try location.load(allowMissing: true)
        let credentials = ConsoleCredentials(directory: StateDirectories(config.values).console)
        let password: String
        if isatty(STDIN_FILENO) == 1 {
            let first = try PasswordPrompt.read("New console password: ")
            guard try PasswordPrompt.read("Again: ") == first else {
                printError("the two passwords differ; nothing was changed")
                throw CtlExit.failure
            }
            password = first
        } else {
            guard let line = readLine(strippingNewline: true) else {
                printError("no password on standard input")
                throw CtlExit.failure
            }
            password = line
        }
        do throws(ConsoleCredentials.Failure) {
            try credentials.setPassword(password)
        } catch {
            printError(error.description)
            throw CtlExit.failure
        }
        print("console password set for user \(ConsoleCredentials.userName) in \(credentials.passwordFile)")
    }
}

/// A line typed on the terminal without echo.
enum PasswordPrompt {
    static func read(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw CtlExit.failure }
        return line
    }
}
