import Foundation
import MailD

/// Scans message files, mboxes, Maildirs (and `-`, standard input) with one core and one
/// profile: what `moat-ctl scan` gets from a running moatd (`Daemon.scan`) and, with
/// `--local` or no moatd, in its own process. One loop, so both report alike.
public struct MessageScan: Sendable {
    let core: MailCore
    let profile: CheckProfile
    /// Also score spam (`moat-ctl scan --spam`); a virus scan alone otherwise, as clamscan.
    let scoresSpam: Bool

    public init(core: MailCore, profile: CheckProfile, scoresSpam: Bool = false) {
        self.core = core
        self.profile = profile
        self.scoresSpam = scoresSpam
    }

    /// One report per message, in input order; a path that cannot be read gives one report
    /// with its error. `-` is standard input only when `readsStandardInput` (moatd's own is
    /// not the client's, so the daemon never reads it). Messages are checked `concurrency` at
    /// a time (by default twice the cores: one message's parts rarely keep every scan worker
    /// busy, and reading the next file overlaps the scan of the last).
    public func reports(for paths: [String], readsStandardInput: Bool = false,
                        concurrency: Int = 4 * ProcessInfo.processInfo.activeProcessorCount) async -> [NamedReport] {
        var entries: [Entry] = []
        for path in paths {
            if path == "-", readsStandardInput {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                entries.append(.message(name: "-", source: .bytes([UInt8](data))))
                continue
            }
            do {
                entries += try MessageFiles.items(at: path).map { Entry.message(name: $0.name, source: $0.source) }
            } catch {
                entries.append(.failed(name: path, error: "\(error)"))
            }
        }
        var reports = [NamedReport?](repeating: nil, count: entries.count)
        await withTaskGroup(of: (Int, NamedReport).self) { group in
            var next = 0
            func startNext() {
                guard next < entries.count else { return }
                let index = next, entry = entries[index]
                next += 1
                group.addTask { (index, await report(entry)) }
            }
            for _ in 0..<max(1, concurrency) { startNext() }
            for await (index, report) in group {
                reports[index] = report
                startNext()
            }
        }
        return reports.compactMap { $0 }
    }

    enum Entry: Sendable {
        case message(name: String, source: MessageSource)
        case failed(name: String, error: String)
    }

    private func report(_ entry: Entry) async -> NamedReport {
        switch entry {
        case .message(let name, let source): NamedReport(name: name, report: await check(source))
        case .failed(let name, let error): NamedReport(name: name, report: nil, error: error)
        }
    }

    private func check(_ message: MessageSource) async -> CheckReport {
        await core.check(envelope: Envelope(source: .commandLine), message: message, profile: profile, scoresSpam: scoresSpam)
    }
}
