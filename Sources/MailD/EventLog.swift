import Foundation
import Logging
import MoatConfig
import Policy

/// One line per verdict, key=value, for grep: which message, from
/// whom to whom, through which interface, what was decided, by which rule, and why.
enum EventLog {
    /// The line, and the console's ring of recent threats (`RecentThreats`).
    static func record(_ decision: Decision, logger: Logger, recent: RecentThreats) {
        logger.notice("verdict", metadata: metadata(decision))
        recent.record(decision)
    }

    /// Every value that can come from a peer or a message (Message-ID after RFC 2047
    /// decoding, envelope addresses, file names, rule texts quoting them) goes through
    /// `LogText.escape`: control characters escaped, length capped, one line whatever it holds.
    static func metadata(_ decision: Decision) -> Logger.Metadata {
        let report = decision.report
        let envelope = report.envelope
        func safe(_ text: String) -> Logger.MetadataValue { .string(LogText.escape(text)) }
        // Room for every field at once: grown from the six below, the table was rehashed twice.
        var fields = Logger.Metadata(minimumCapacity: 16)
        fields["interface"] = safe(report.profile)
        fields["action"] = .string(actionName(decision.action))
        fields["status"] = .string(report.status.rawValue)
        fields["size"] = .string(String(report.size))
        fields["ms"] = .string(String(report.elapsedMilliseconds))
        fields["reason"] = safe(decision.reason)
        if let id = envelope.queueId { fields["queue_id"] = safe(id) }
        if let id = report.messageId { fields["message_id"] = safe(id) }
        if let from = envelope.sender { fields["from"] = safe(from) }
        if !envelope.recipients.isEmpty { fields["to"] = safe(envelope.recipients.joined(separator: ",")) }
        if let client = envelope.clientAddress { fields["client"] = safe(client) }
        if let kept = decision.quarantine { fields["quarantine"] = "\(kept.id)\(kept.held ? " held" : "")" }
        let threats = threatTexts(report)
        if !threats.isEmpty { fields["threats"] = safe(threats.joined(separator: "; ")) }
        if !report.unchecked.isEmpty { fields["unchecked"] = safe(Array(Set(report.unchecked.map(\.description))).sorted().joined(separator: ", ")) }
        if let text = decision.action.text, decision.action != .pass { fields["text"] = safe(text) }
        if let spam = report.spam {
            fields["spam_score"] = "\(DecimalText.fixed(spam.points, places: 2))"
            // Only the findings that moved the score, highest first: the line stays short.
            let symbols = spam.symbols.filter { $0.score != 0 }.prefix(12).map { "\($0.name)(\(DecimalText.fixed($0.score, places: 1)))" }
            if !symbols.isEmpty { fields["spam_symbols"] = safe(symbols.joined(separator: ",")) }
        }
        return fields
    }

    /// Each threat as `Name (Category) in <part> "filename"`.
    static func threatTexts(_ report: CheckReport) -> [String] {
        report.parts.flatMap { part in
            part.threats.map { "\($0.name) (\($0.category)) in \(part.path)\(part.filename.map { " \"\($0)\"" } ?? "")" }
        }
    }

    static func actionName(_ action: FinalAction) -> String {
        switch action {
        case .pass: "pass"
        case .reject: "reject"
        case .tempfail: "tempfail"
        case .discard: "discard"
        case .repack: "repack"
        case .scanMail: "scan"
        }
    }
}
