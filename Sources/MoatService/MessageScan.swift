import Foundation
import MailD

/// Scans message files, mboxes, Maildirs (and `-`, standard input) with one core and one
/// profile: what `moat-ctl scan` gets from a running moatd (`Daemon.scan`) and, with
/// `--local` or no moatd, in its own process. One loop, so both report alike.
public struct MessageScan: Sendable {
    let core: MailCore
    let profile: CheckProfile

    public init(core: MailCore, profile: CheckProfile) {
        self.core = core
        self.profile = profile
    }

    /// One report per message; a path that cannot be read gives one report with its error.
    /// `-` is standard input only when `readsStandardInput` (moatd's own is not the
    /// client's, so the daemon never reads it).
    public func reports(for paths: [String], readsStandardInput: Bool = false) async -> [NamedReport] {
        var reports: [NamedReport] = []
        for path in paths {
            if path == "-", readsStandardInput {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                reports.append(NamedReport(name: "-", report: await check(.bytes([UInt8](data)))))
                continue
            }
            do {
                for item in try MessageFiles.items(at: path) {
                    reports.append(NamedReport(name: item.name, report: await check(item.source)))
                }
            } catch {
                reports.append(NamedReport(name: path, report: nil, error: "\(error)"))
            }
        }
        return reports
    }

    private func check(_ message: MessageSource) async -> CheckReport {
        await core.check(envelope: Envelope(source: .commandLine), message: message, profile: profile)
    }
}
