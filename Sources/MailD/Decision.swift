import Policy
import SenderAuth

/// What a front-end does with a message: the check's facts, the rule set's verdict, and the
/// final action after `BlockUnchecked`.
public struct Decision: Sendable {
    public var report: CheckReport
    public var verdict: Verdict
    /// The action to carry out. Equal to `verdict.action` unless BlockUnchecked turned a
    /// default pass of an unchecked message into a refusal.
    public var action: FinalAction
    /// Header fields to add (from ADD_HEADER actions), values not yet RFC 2047-encoded.
    public var headersToAdd: [(name: String, value: String)]
    /// For `.repack`: the whole new message to deliver instead.
    public var repackedMessage: [UInt8]?
    /// Moat's ARC set (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results, top to
    /// bottom) for a message it changed, to put in front of everything; empty when nothing
    /// was changed or no seal is configured.
    public var sealHeaders: [SignedHeaderField] = []
    /// Occurrences (1-based) of Authentication-Results fields in the message that claim Moat's
    /// authserv-id, to remove when Moat adds its own (the Milter does; see README).
    public var forgedAuthenticationResults: [Int] = []
    /// Why the action was taken, for the event log and reply texts.
    public var reason: String
    /// `QUARANTINE` kept the message (its id), and whether it is held back from delivery.
    public var quarantine: QuarantineOutcome? = nil

    /// Moat itself failed on this message (spool not writable or readable); the action is
    /// then a temporary failure, and interfaces without one answer with their error reply.
    public var localFailure: String? { report.localFailure }
}

/// BlockUnchecked, as a policy of its own: applies only when no rule decided.
enum UncheckedPolicy {
    static let rejectText = "The message could not be checked"
    static let tempfailText = "The message could not be checked now, try again later"
    static let localFailureText = "Local error in the mail filter, try again later"

    static let threatText = "The message contains a THREAT"

    static func apply(_ verdict: Verdict, report: CheckReport, blockUnchecked: Bool,
                      blockedCategories: Set<String>? = nil) -> (FinalAction, String) {
        // SCAN_MAIL decides about a connection (inspect it); for the message in it, the
        // switches below and the scan result decide.
        if let rule = verdict.decidingRule, verdict.action != .scanMail { return (verdict.action, rule.description) }
        var verdictAction = verdict.action
        if verdictAction == .scanMail { verdictAction = .pass }
        if let blocked = blockedCategories {
            let hits = Set(report.threats.map(\.category)).intersection(blocked)
            if !hits.isEmpty { return (.reject(threatText), "Block switches: " + hits.sorted().joined(separator: ", ")) }
        }
        guard report.status == .unchecked, blockUnchecked else {
            return (verdictAction, report.status == .clean ? "clean" : "no rule matched")
        }
        // A retry can help after a time-out or an engine error; an encrypted archive or an
        // exceeded limit will be the same tomorrow, so refuse it for good.
        let transient = report.unchecked.allSatisfy { $0.reason == .timeout || $0.reason == .engineError }
        let reasons = Array(Set(report.unchecked.map(\.description))).sorted().joined(separator: ", ")
        return transient ? (.tempfail(tempfailText), "BlockUnchecked: \(reasons)")
                         : (.reject(rejectText), "BlockUnchecked: \(reasons)")
    }
}
