/// The decision a rule set reaches. Front-ends carry it out (an SMTP reply, a milter
/// answer, a spamd header...); Policy itself has no side effects.
public enum FinalAction: Sendable, Equatable, CustomStringConvertible {
    case pass
    /// `REJECT` or `BLOCK`: refuse permanently; nil text: the front-end's default.
    case reject(String?)
    /// `TEMPFAIL`: refuse for now, the sender retries.
    case tempfail(String?)
    /// `DISCARD`: accept and drop silently.
    case discard
    /// `REPACK`: the core moves threat parts into a protected archive and adds a report.
    case repack(String?)
    /// `SCAN_MAIL` (LinuxFirewall only): the Gate hands the connection to the mail scanner.
    case scanMail

    public static let defaultRejectText = "The message was rejected by the content policy"
    public static let defaultTempfailText = "The message cannot be accepted now, try again later"
    public static let defaultRepackReason = "Parts of the message were removed by the content policy"

    /// The text given in the rule, or the default one for actions that carry text.
    public var text: String? {
        switch self {
        case .reject(let t): t ?? Self.defaultRejectText
        case .tempfail(let t): t ?? Self.defaultTempfailText
        case .repack(let t): t ?? Self.defaultRepackReason
        case .pass, .discard, .scanMail: nil
        }
    }

    public var description: String {
        func quoted(_ t: String?) -> String { t.map { " \"\($0)\"" } ?? "" }
        switch self {
        case .pass: return "PASS"
        case .reject(let t): return "REJECT" + quoted(t)
        case .tempfail(let t): return "TEMPFAIL" + quoted(t)
        case .discard: return "DISCARD"
        case .repack(let t): return "REPACK" + quoted(t)
        case .scanMail: return "SCAN_MAIL"
        }
    }
}

/// The rule whose final action decided, for the event log.
public struct DecidingRule: Sendable, Equatable {
    public var ruleSetName: String
    /// 0-based position in the rule set.
    public var index: Int
    public var text: String

    public init(ruleSetName: String, index: Int, text: String) {
        self.ruleSetName = ruleSetName
        self.index = index
        self.text = text
    }
}

public struct Verdict: Sendable, Equatable {
    public var action: FinalAction
    /// `ADD_HEADER` results in rule order (also kept when the final action refuses the message).
    public var headersToAdd: [HeaderField]
    /// `SET tag = ...` results in rule order.
    public var tags: [String]
    /// `SET unwrap_ssl = ...`: the last value set, nil when no rule set it.
    public var unwrapSsl: Bool?
    /// nil when no rule reached a final action and the default PASS applies.
    public var decidingRule: DecidingRule?

    public init(action: FinalAction = .pass, headersToAdd: [HeaderField] = [], tags: [String] = [],
                unwrapSsl: Bool? = nil, decidingRule: DecidingRule? = nil) {
        self.action = action
        self.headersToAdd = headersToAdd
        self.tags = tags
        self.unwrapSsl = unwrapSsl
        self.decidingRule = decidingRule
    }
}
