import ArgumentParser
import Control
import Foundation
import Storage

/// `moat-ctl log search`: the message log (one row per verdict, and per release or delete).
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Search the message log of every gateway sharing [Root] Database.",
        subcommands: [Search.self])

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rows by sender, recipient, Message-ID, verdict, node and time range, newest first.",
            discussion: "Addresses and Message-IDs match whole (addresses case-insensitively). Exit codes: 0 done; 1 moatd refused.")
        @OptionGroup var location: ConfigLocation
        @Option(help: "Envelope sender.") var sender: String?
        @Option(help: "Envelope recipient.") var recipient: String?
        @Option(help: "Message-ID, with its angle brackets.") var messageId: String?
        @Option(help: "pass, reject, tempfail, discard, repack, quarantine, reject+quarantine, ..., released, deleted.") var verdict: String?
        @Option(help: "The node ([Root] NodeName) that decided.") var node: String?
        @Option(help: "From this time (ISO 8601, or hours ago such as 24h).") var since: String?
        @Option(help: "Up to this time (ISO 8601, or hours ago).") var until: String?
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let query = LogQuery(sender: sender, recipient: recipient, messageId: messageId, verdict: verdict, node: node,
                                 since: try TimeArgument.parse(since), until: try TimeArgument.parse(until), limit: limit)
            let response = try location.send(ControlRequest(.logSearch, logQuery: query))
            guard response.ok, let entries = response.logEntries else { throw refused(response) }
            if json { return try printJSON(entries) }
            for e in entries {
                var line = "\(TimeArgument.format(e.time))  \(e.node)  \(e.interface)  \(e.verdict)  from=\(e.sender ?? "<>") "
                    + "to=\(e.recipients.joined(separator: ",")) id=\(e.messageId ?? "-") size=\(e.size)"
                if !e.threats.isEmpty { line += " threats=\(e.threats.joined(separator: ";"))" }
                if let score = e.spamScore { line += " spam=\(String(format: "%.2f", score))" }
                if let q = e.quarantineId { line += " quarantine=\(q)" }
                line += " subject=\(Printable.line(e.subject ?? ""))"
                print(Printable.line(line))
            }
            print("\(entries.count) row\(entries.count == 1 ? "" : "s")")
        }
    }
}

/// `--since`/`--until`: ISO 8601 (2026-12-06T10:00:00Z, or a date), or hours ago (`24h`).
enum TimeArgument {
    static func parse(_ text: String?) throws -> Date? {
        guard let text else { return nil }
        if text.hasSuffix("h"), let hours = Double(text.dropLast()) { return Date().addingTimeInterval(-hours * 3600) }
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        if let date = day.date(from: text) { return date }
        throw ValidationError("`\(text)` is not a time: give ISO 8601 (2026-12-06T10:00:00Z, 2026-12-06) or hours ago (24h)")
    }

    static func format(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
