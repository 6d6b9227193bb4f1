import ArgumentParser
import Control
import Foundation

/// Exit codes scripts can rely on; listed in `moat-ctl --help` and the README.
enum CtlExit {
    static let failure = ExitCode(1)
    static let invalidConfiguration = ExitCode(2)
    static let notRunning = ExitCode(3)
    static let reloadRefused = ExitCode(4)
    static let permissionDenied = ExitCode(5)

    static func code(for failure: ControlClient.Failure) -> ExitCode {
        switch failure {
        case .notRunning: notRunning
        case .permissionDenied: permissionDenied
        case .io, .badAnswer: self.failure
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data(("moat-ctl: " + text + "\n").utf8))
}
