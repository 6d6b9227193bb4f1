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

    /// The action's keyword in lower case (`pass`, `reject`, ...), for counters and logs.
    public var keyword: String {
        switch self {
        case .pass: "pass"
        case .reject: "reject"
        case .tempfail: "tempfail"
        case .discard: "discard"
        case .repack: "repack"
        case .scanMail: "scan_mail"
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
public struct DecidingRule: Sendable, Equatable, CustomStringConvertible {
    public var ruleSetName: String
    /// 0-based position in the rule set.
    public var index: Int
    public var text: String

    public init(ruleSetName: String, index: Int, text: String) {
        self.ruleSetName = ruleSetName
        self.index = index
        self.text = text
    }

    /// `MailD.MilterRuleSet rule 1: <text>` (counting from 1, as errors do).
    public var description: String { "\(ruleSetName) rule \(index + 1): \(text)" }
}

public struct Verdict: Sendable, Equatable, CustomStringConvertible {
    public var action: FinalAction
    /// `ADD_HEADER` results in rule order (also kept when the final action refuses the message).
    public var headersToAdd: [HeaderField]
    /// `SET tag = ...` results in rule order.
    public var tags: [String]
    /// `ADD_AUTH_RESULTS` ran: the core adds an Authentication-Results header.
    public var addAuthenticationResults: Bool
    /// `SET unwrap_ssl = ...`: the last value set, nil when no rule set it.
    public var unwrapSsl: Bool?
    /// nil when no rule reached a final action and the default PASS applies.
    public var decidingRule: DecidingRule?
    /// Things the event log should mention, e.g. a regular expression given up on.
    public var notes: [String]

    public init(action: FinalAction = .pass, headersToAdd: [HeaderField] = [], tags: [String] = [],
                unwrapSsl: Bool? = nil, decidingRule: DecidingRule? = nil, notes: [String] = [],
                addAuthenticationResults: Bool = false) {
        self.action = action
        self.headersToAdd = headersToAdd
        self.tags = tags
        self.unwrapSsl = unwrapSsl
        self.decidingRule = decidingRule
        self.notes = notes
        self.addAuthenticationResults = addAuthenticationResults
    }

    /// `REJECT "text" by MailD.MilterRuleSet rule 1: <text>`, or `PASS (no rule decided)`.
    public var description: String {
        var text = action.description
        for header in headersToAdd { text += ", ADD_HEADER(\(header.name): \(header.value))" }
        if addAuthenticationResults { text += ", ADD_AUTH_RESULTS" }
        for tag in tags { text += ", tag \(tag)" }
        if let unwrapSsl { text += ", unwrap_ssl \(unwrapSsl ? "yes" : "no")" }
        text += decidingRule.map { " by \($0)" } ?? " (no rule decided)"
        return text
    }
}
