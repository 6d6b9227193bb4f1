import MIME
import SenderAuth
import ThreatEngine

/// A threat found in one part, in a form logs, JSON output and the rules use.
public struct FoundThreat: Sendable, Codable, Hashable {
    public var name: String
    /// The rule language's category name (KnownVirus, Adware, ...).
    public var category: String

    public init(_ threat: Threat) {
        name = threat.name
        category = threat.category.rawValue
    }
}

/// Why a part (or the whole message) could not be checked.
public struct UncheckedFact: Sendable, Codable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Codable {
        case timeout, limitExceeded, encrypted, malformed, engineError
    }

    public var reason: Reason
    /// The limit's parameter name, or what was malformed, or the engine's error.
    public var detail: String?

    public init(_ reason: Reason, _ detail: String? = nil) {
        self.reason = reason
        self.detail = detail
    }

    public init(_ engine: UncheckedReason) {
        switch engine {
        case .timeout: self.init(Reason.timeout)
        case .limitExceeded(let name): self.init(Reason.limitExceeded, name)
        case .encrypted: self.init(Reason.encrypted)
        case .malformed(let what): self.init(Reason.malformed, what)
        case .engineError(let what): self.init(Reason.engineError, what)
        }
    }

    public var description: String { detail.map { "\(reason.rawValue): \($0)" } ?? reason.rawValue }
}

/// What was found in one leaf part of the message tree.
public struct PartReport: Sendable, Codable, Hashable {
    /// IMAP-style part number ("1.2"); "" is the message itself.
    public var path: String
    public var filename: String?
    public var contentType: String
    /// Decoded size in bytes.
    public var size: Int
    public var threats: [FoundThreat]
    public var unchecked: [UncheckedFact]
    /// Structural defects the MIME parser recorded for this part.
    public var problems: [String]

    public var isClean: Bool { threats.isEmpty && unchecked.isEmpty }
}

/// The outcome of `MailCore.check`: facts per part, and the summary front-ends, rules and the
/// event log use.
public struct CheckReport: Sendable, Codable {
    public enum Status: String, Sendable, Codable {
        case clean, threat, unchecked
    }

    public var envelope: Envelope
    public var profile: String
    public var messageId: String?
    public var subject: String?
    public var size: Int
    public var parts: [PartReport]
    /// Facts about the message as a whole (a time-out, a structure the parser gave up on).
    public var messageUnchecked: [UncheckedFact]
    public var elapsedMilliseconds: Int
    /// Signatures generation of the engine that scanned; a reload increases it.
    public var engineGeneration: Int
    /// Moat itself failed (its spool could not be written or read back): the message was not
    /// fully checked through no fault of its own. Never a reason to pass it: `decide` turns
    /// it into a temporary failure whatever BlockUnchecked says, and the front-ends answer
    /// with their protocol's error.
    public var localFailure: String? = nil
    /// The anti-spam verdict; nil when the message could not be read.
    public var spam: SpamReport? = nil
    /// SPF, DKIM, DMARC, ARC and blocklists; nil when the checks are off or the path has no
    /// envelope (`[MailD] SenderAuthentication`).
    public var senderAuthentication: SenderAuthentication? = nil

    public var threats: [FoundThreat] { parts.flatMap(\.threats) }
    public var unchecked: [UncheckedFact] { messageUnchecked + parts.flatMap(\.unchecked) }

    /// A threat wins over unchecked: a message with a known virus is refused whatever else.
    public var status: Status {
        if !threats.isEmpty { return .threat }
        if !unchecked.isEmpty { return .unchecked }
        return .clean
    }
}
