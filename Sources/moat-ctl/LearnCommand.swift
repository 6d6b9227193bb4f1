import ArgumentParser
import Control
import Foundation
import MailD

/// `moat-ctl learn spam|ham PATH... [--forget]`: teach the running moatd's anti-spam model,
/// like sa-learn. moatd reads the paths itself (they must be readable by it), so the model in
/// its memory and the one on disk stay the same.
struct LearnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learn",
        abstract: "Learn messages (files, mboxes, Maildirs, directories) as spam or ham, or forget them.",
        discussion: """
        A message learned twice counts once (by Message-ID and body); learning it as the other class \
        moves it. The statistical model is used once [MailD] SpamModelMinLearned messages of each \
        class are learned; until then only the rules score. Exit codes: 0 done; 1 moatd refused or \
        some message could not be learned.
        """)

    @OptionGroup var location: ConfigLocation

    @Argument(help: "spam or ham.")
    var learnedClass: String

    @Argument(help: "Message files, mbox files, Maildirs or directories (readable by moatd).")
    var paths: [String]

    @Flag(help: "Forget the messages instead of learning them.")
    var forget = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard ["spam", "ham"].contains(learnedClass.lowercased()) else { throw ValidationError("learn spam or learn ham") }
    }

    func run() throws {
        let absolute = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let response = try location.send(ControlRequest(.learn, paths: absolute, learnAs: forget ? "forget" : learnedClass.lowercased()))
        guard response.ok, let report = response.learnReport else {
            printError(response.message ?? "moatd did not learn")
            throw CtlExit.failure
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            for item in report.items {
                print("\(item.name): \(item.outcome ?? "not learned: \(item.error ?? "unknown error")")")
            }
            let changed = report.items.filter(\.changed).count
            print("\(changed) of \(report.items.count) messages changed the model; learned: \(report.counts.spam) spam, \(report.counts.ham) ham")
        }
        if report.items.contains(where: { $0.error != nil }) { throw CtlExit.failure }
    }
}
