import ArgumentParser
import Control
import Foundation
import Logging
import MailD
import MoatConfig
import MoatService
import ThreatEngine

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scan messages (files, mboxes, Maildirs, or - for standard input) with Moat's core.",
        discussion: """
        Uses the running moatd's engine when it answers; what moatd cannot read (it runs as user \
        moat, under systemd without /home, /root or the host's /tmp) and anything when moatd does not \
        run is scanned with the engine loaded in this process. Exit codes: 0 every message clean; 1 a threat found; \
        6 nothing found but something could not be checked; 2 invalid configuration or arguments; \
        8 an input could not be read.
        """)

    @OptionGroup var location: ConfigLocation

    @Argument(help: "Message files, mbox files, Maildirs or directories; - reads one message from standard input.")
    var arguments: [String] = []

    @Option(name: .customLong("file-list"),
            help: "Also scan the paths listed in this file, one per line (as clamscan's --file-list; thousands of paths on the command line cost more to parse than to scan).")
    var fileList: String?

    @Flag(help: "Print the reports as JSON.")
    var json = false

    @Option(help: "Whose limits apply: Milter, Spamd, Rspamd, LinuxFirewall or ClamD.")
    var profile = "Milter"

    @Flag(help: "Also score spam and print the points and symbols (a virus scan alone otherwise, as clamscan).")
    var spam = false

    @Flag(help: "Scan in this process even when moatd runs.")
    var local = false

    func validate() throws {
        guard !arguments.isEmpty || fileList != nil else { throw ValidationError("nothing to scan: give paths or --file-list") }
        guard ["milter", "spamd", "rspamd", "linuxfirewall", "clamd"].contains(profile.lowercased()) else {
            throw ValidationError("--profile must be Milter, Spamd, Rspamd, LinuxFirewall or ClamD")
        }
    }

    func run() async throws {
        let paths = try arguments + listedPaths()
        let usesStdin = paths.contains("-")
        var reports: [NamedReport]
        if !local, !usesStdin, ControlClient.isAnswering(location.socketPath()) {
            let absolute = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            let response = try location.send(ControlRequest(.scan, paths: absolute, profile: profile, spam: spam))
            guard response.ok, let received = response.scanReports else {
                printError(response.message ?? "moatd did not scan")
                throw CtlExit.failure
            }
            reports = received
            // moatd reads as its user (moat) and, under its systemd unit, sees no /home, /root or
            // host /tmp: what it could not read and this process can, this process scans.
            let unread = reports.filter { $0.report == nil && FileManager.default.isReadableFile(atPath: $0.name) }
            if !unread.isEmpty {
                printError("moatd could not read \(unread.map(\.name).joined(separator: ", ")): scanned by moat-ctl itself")
                let config = try location.load(allowMissing: true)
                let local = try await LocalScan(values: config.values, profile: profile, spam: spam).scan(unread.map(\.name))
                let byName = Dictionary(local.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
                reports = reports.map { byName[$0.name] ?? $0 }
            }
        } else {
            let config = try location.load(allowMissing: true)
            reports = try await LocalScan(values: config.values, profile: profile, spam: spam).scan(paths)
        }
        try ScanOutput.print(reports, json: json)
        throw ScanOutput.exitCode(reports)
    }

    /// The paths of --file-list; an unreadable list is an error of the arguments (exit 2).
    private func listedPaths() throws -> [String] {
        guard let fileList else { return [] }
        guard let data = FileManager.default.contents(atPath: fileList) else {
            printError("cannot read the file list \(fileList)")
            throw ExitCode(2)
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.isEmpty }
    }
}

/// The core in this process: for hosts without moatd running, or stdin. The engine is set up
/// as moatd's (`EngineSetup`), for the one profile asked for; libclamav's scratch space is
/// `[Root] TempDir` as for moatd when this user may use it (root, or moatd's user: a tmpfs
/// there is most of the speed of a scan), else the system's; the spool is a private directory
/// removed afterwards, since moatd's may not be this user's to write.
struct LocalScan {
    let values: ConfigValues
    let profile: String
    let spam: Bool

    func scan(_ paths: [String]) async throws -> [NamedReport] {
        let checkProfile = ProfileChoice.profile(named: profile, values: values)
        let scanner: any ThreatScanning
        do {
            // Standard output carries the reports (JSON with --json): the sandbox speaks on stderr.
            var logger = Logger(label: "moat-ctl", factory: { label in StreamLogHandler.standardError(label: label) })
            logger.logLevel = .warning
            // Another user's TempDir is not an error here: the system's temporary directory serves.
            var quiet = logger
            quiet.logLevel = .critical
            let scratch = ScratchDirectory.prepare(values, logger: quiet)
            scanner = try EngineSetup.scanner(values, serving: [checkProfile], temporaryDirectory: scratch, logger: logger)
        } catch {
            printError("cannot load the signatures: \(error)")
            throw CtlExit.failure
        }
        for warning in scanner.signatureInfo.warnings { printError("warning: \(warning)") }
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("moat-ctl-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let core = MailCore(scanner: scanner, spoolDirectory: spool)
        return await MessageScan(core: core, profile: checkProfile, scoresSpam: spam).reports(for: paths, readsStandardInput: true)
    }
}

enum ScanOutput {
    static func print(_ reports: [NamedReport], json: Bool) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            Swift.print(String(decoding: try encoder.encode(reports), as: UTF8.self))
            return
        }
        for named in reports {
            if let report = named.report {
                for line in ReportText.lines(report, name: named.name) { Swift.print(line) }
            } else {
                Swift.print("\(named.name): ERROR \(named.error ?? "not scanned")")
            }
        }
    }

    static func exitCode(_ reports: [NamedReport]) -> ExitCode {
        if reports.contains(where: { $0.report?.status == .threat }) { return ExitCode(1) }
        if reports.contains(where: { $0.report == nil }) { return ExitCode(8) }
        if reports.contains(where: { $0.report?.status == .unchecked }) { return ExitCode(6) }
        return .success
    }
}
