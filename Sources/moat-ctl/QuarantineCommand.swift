import ArgumentParser
import Control
import Foundation
import Storage

/// `moat-ctl quarantine list|show|release|delete`: the running moatd's quarantine, shared by
/// every gateway on the same [Root] Database.
struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "List, show, release or delete messages kept by the QUARANTINE rule action.",
        discussion: """
        Items are kept in VarDir/quarantine with their metadata in [Root] Database for \
        [Root] QuarantineRetention. A release sends the original message to \
        [Root] QuarantineReleaseRelay for its original recipients. Exit codes: 0 done; 1 moatd \
        refused (unknown id, released already, relay failure).
        """,
        subcommands: [List.self, Show.self, Release.self, Delete.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List quarantined messages, newest first.")
        @OptionGroup var location: ConfigLocation
        @Option(help: "Envelope sender (whole address).") var sender: String?
        @Option(help: "Envelope recipient (whole address).") var recipient: String?
        @Option(help: "Message-ID, with its angle brackets.") var messageId: String?
        @Option(help: "Only 'message' or 'archive' (repack archives).") var kind: QuarantineRecord.Kind?
        @Option(help: "From this time (ISO 8601, or a number of hours ago such as 24h).") var since: String?
        @Option(help: "Up to this time (ISO 8601, or hours ago).") var until: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let query = QuarantineQuery(sender: sender, recipient: recipient, messageId: messageId, kind: kind,
                                        since: try TimeArgument.parse(since), until: try TimeArgument.parse(until), limit: limit)
            let response = try location.send(ControlRequest(.quarantineList, quarantineQuery: query))
            guard response.ok, let records = response.quarantine else { throw refused(response) }
            if json { return try printJSON(records) }
            for r in records {
                let released = r.releasedAt.map { " released \(TimeArgument.format($0)) by \(r.releasedBy ?? "?")" } ?? ""
                print("\(r.id)  \(TimeArgument.format(r.time))  \(r.node)  \(r.kind.rawValue)  \(r.verdict)  "
                      + "from=\(r.sender ?? "<>") to=\(r.recipients.joined(separator: ",")) "
                      + "subject=\(Printable.line(r.subject ?? ""))\(released)")
            }
            print("\(records.count) item\(records.count == 1 ? "" : "s")")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a quarantined item: envelope, verdict, header fields and parts.")
        @OptionGroup var location: ConfigLocation
        @Argument(help: "The quarantine id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let response = try location.send(ControlRequest(.quarantineShow, id: id))
            guard response.ok, let detail = response.quarantineDetail else { throw refused(response) }
            if json { return try printJSON(detail) }
            let r = detail.record
            print("id: \(r.id)\nkind: \(r.kind.rawValue)\nkept: \(TimeArgument.format(r.time)) on \(r.node) (\(r.interface))")
            print("client: \(r.clientAddress ?? "-")\nfrom: \(r.sender ?? "<>")\nto: \(r.recipients.joined(separator: ", "))")
            print("verdict: \(r.verdict)\nreason: \(Printable.line(r.reason))\nthreats: \(r.threats.joined(separator: "; "))")
            print("size: \(r.size)\nreleased: \(r.releasedAt.map { "\(TimeArgument.format($0)) by \(r.releasedBy ?? "?")" } ?? "no")")
            print("bytes: \(detail.source ?? "not available on this node")")
            if !detail.headers.isEmpty { print("header:") }
            for field in detail.headers { print("  \(Printable.line(field.name)): \(Printable.line(field.value))") }
            if !detail.parts.isEmpty { print("parts:") }
            for part in detail.parts {
                print("  \(part.path.isEmpty ? "(body)" : part.path)  \(part.contentType)  \(part.size) bytes"
                      + (part.filename.map { "  \"\(Printable.line($0))\"" } ?? ""))
            }
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a quarantined message to its original recipients through QuarantineReleaseRelay.")
        @OptionGroup var location: ConfigLocation
        @Argument(help: "The quarantine id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let response = try location.send(ControlRequest(.quarantineRelease, id: id, by: Operator.name))
            guard response.ok, let outcome = response.release else { throw refused(response) }
            if json { return try printJSON(outcome) }
            print("released \(outcome.id) to \(outcome.relay) for \(outcome.accepted.joined(separator: ", ")): \(outcome.relayReply)")
            if !outcome.refused.isEmpty { print("the relay refused: \(outcome.refused.joined(separator: ", "))") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a quarantined item (its row, its database copy and this node's files).")
        @OptionGroup var location: ConfigLocation
        @Argument(help: "The quarantine id.") var id: String

        func run() throws {
            let response = try location.send(ControlRequest(.quarantineDelete, id: id, by: Operator.name))
            guard response.ok else { throw refused(response) }
            print(response.message ?? "deleted \(id)")
        }
    }
}

extension QuarantineRecord.Kind: ExpressibleByArgument {}

/// Who runs moat-ctl (root, usually through sudo): named in the release header and the log.
enum Operator {
    static var name: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["SUDO_USER"] ?? environment["USER"] ?? "uid \(getuid())"
    }
}

/// moatd refused: its message on standard error, exit code 1.
func refused(_ response: ControlResponse) -> ExitCode {
    printError(response.message ?? "moatd refused")
    return CtlExit.failure
}

func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Values that came from a message or a peer, printed on one line without control characters.
enum Printable {
    static func line(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }.prefix(300))
    }
}
