import Foundation
import MIME
import Policy

/// What a front-end carries out for one message, every text resolved: front-ends translate
/// this into their protocol and never look at the rule language's types.
public enum MailAction: Sendable, Equatable {
    case pass
    /// Refuse for good, with this one-line text.
    case reject(String)
    /// Refuse for now, with this one-line text.
    case tempfail(String)
    /// Accept and drop.
    case discard
    /// Deliver `message` instead of the original (threats moved into the protected archive);
    /// `text` says why.
    case repack(message: [UInt8], text: String)

    public static let defaultRejectText = FinalAction.defaultRejectText
    public static let defaultTempfailText = FinalAction.defaultTempfailText
}

/// A header field a rule adds (ADD_HEADER), written as it must be: the value on one line,
/// and outside printable ASCII as RFC 2047 words of at most 75 characters each.
public struct AddedHeader: Sendable, Equatable {
    public var name: String
    /// The rule's text, on one line (for replies that carry text, such as spamd's).
    public var value: String
    /// `value` as it goes into the header: the text itself, or encoded words.
    public var words: [String]

    public init(name: String, value: String) {
        self.name = name
        // Folded lines become one; control characters become spaces, so a value can never
        // end the field and start another (header injection).
        let flat = value.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        self.value = String(String.UnicodeScalarView(flat.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        self.words = self.value.isEmpty ? [""] : EncodedWordEncoder.words(self.value)
    }

    /// The encoded value, long ones folded with `folding` ("\r\n " in a message, "\n " for a milter).
    public func encodedValue(folding: String = "\r\n ") -> String { words.joined(separator: folding) }

    /// `Name: value` with its line ending, ready to put in front of a message.
    public var line: String { "\(name): \(encodedValue())\r\n" }
}

extension Decision {
    /// The action with its texts resolved; a repack always carries its message (the core
    /// turns a repack that could not be built into a temporary failure).
    public var mailAction: MailAction {
        switch action {
        case .pass, .scanMail: .pass
        case .reject(let text): .reject(text ?? FinalAction.defaultRejectText)
        case .tempfail(let text): .tempfail(text ?? FinalAction.defaultTempfailText)
        case .discard: .discard
        case .repack(let text):
            if let repackedMessage { .repack(message: repackedMessage, text: text ?? FinalAction.defaultRepackReason) }
            else { .reject(text ?? FinalAction.defaultRepackReason) }
        }
    }

    /// The rule that decided, numbered from 1 as administrators count them, and as text
    /// (`REJECT "..." by MailD.SpamdRuleSet rule 2: ...`); nil when no rule decided.
    public var decidingRule: (number: Int, text: String)? {
        verdict.decidingRule.map { ($0.index + 1, $0.description) }
    }

    /// The ADD_HEADER fields, encoded.
    public var addedHeaders: [AddedHeader] { headersToAdd.map { AddedHeader(name: $0.name, value: $0.value) } }
}
