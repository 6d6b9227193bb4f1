import Foundation
import MailD
import MoatConfig

/// A decision in rspamd's terms: an action, a score against thresholds, symbols, messages.
/// The score is the anti-spam engine's points; the action follows the thresholds, and a
/// refusal by the content policy is "reject" (with `spamScore` when the points are lower).
public struct RspamdVerdict: Sendable, Equatable {
    public static let spamScore = 100.0

    public var action: String
    public var score: Double
    /// The reject threshold, as rspamd reports it.
    public var requiredScore: Double
    public var thresholds: [String: Double]
    public var isSpam: Bool { action == "reject" || action == "add header" || action == "rewrite subject" }
    /// name -> (score, description, options)
    public var symbols: [Symbol]
    public var smtpMessage: String?
    public var addHeaders: [(name: String, value: String)]
    public var messageId: String?

    public struct Symbol: Sendable, Equatable {
        public var name: String
        public var score: Double
        public var description: String
        public var options: [String]
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.action == b.action && a.score == b.score && a.symbols == b.symbols && a.smtpMessage == b.smtpMessage
    }

    public init(_ decision: Decision, addHeader: Double = 5.0, reject: Double = 10.0) {
        var symbols: [Symbol] = decision.report.spam?.symbols.map {
            Symbol(name: $0.name, score: $0.score, description: $0.description, options: [])
        } ?? []
        let points = ((decision.report.spam?.points ?? 0) * 100).rounded() / 100
        let threats = Array(Set(decision.report.threats.map(\.name))).sorted()
        let refused: Bool
        requiredScore = reject
        thresholds = ["reject": reject, "add header": addHeader]
        switch decision.mailAction {
        case .reject(let text), .repack(_, let text):
            action = "reject"; score = points >= reject ? points : Self.spamScore; refused = true
            smtpMessage = text
        case .discard:
            action = "reject"; score = points >= reject ? points : Self.spamScore; refused = true
            smtpMessage = "The message was discarded by the content policy"
        case .tempfail(let text):
            action = "soft reject"; score = points; refused = false
            smtpMessage = text
        case .pass:
            score = points; refused = false
            action = points >= reject ? "reject" : points >= addHeader ? "add header" : "no action"
            smtpMessage = action == "reject" ? "Spam message rejected" : nil
        }
        let extra = refused && points < reject ? Self.spamScore : 0
        if !threats.isEmpty {
            symbols.append(Symbol(name: "MOAT_THREAT", score: extra, description: "threats found", options: threats))
        }
        if decision.report.status == .unchecked {
            symbols.append(Symbol(name: "MOAT_UNCHECKED", score: 0, description: "parts could not be checked",
                                  options: Array(Set(decision.report.unchecked.map(\.description))).sorted()))
        }
        if let rule = decision.decidingRule {
            symbols.append(Symbol(name: "MOAT_RULE_\(rule.number)", score: threats.isEmpty ? extra : 0,
                                  description: rule.text, options: []))
        }
        self.symbols = symbols
        addHeaders = decision.headersToAdd
        messageId = decision.report.messageId
    }
}

/// Replies: rspamd's JSON over HTTP, and the RSPAMC text form Exim parses.
public enum RspamdReply {
    static func number(_ value: Double, _ digits: Int = 2) -> String { DecimalText.fixed(value, places: digits) }

    /// `/checkv2` (and v1 paths when `v1`: results under "default").
    public static func json(_ v: RspamdVerdict, v1: Bool = false, milliseconds: Int = 0) -> [UInt8] {
        var symbols: [String: Any] = [:]
        for s in v.symbols {
            symbols[s.name] = ["name": s.name, "score": s.score, "metric_score": s.score, "description": s.description,
                               "options": s.options] as [String: Any]
        }
        var result: [String: Any] = [
            "is_skipped": false, "score": v.score, "required_score": v.requiredScore, "action": v.action,
            "thresholds": v.thresholds, "symbols": symbols, "time_real": Double(milliseconds) / 1000,
        ]
        var messages: [String: Any] = [:]
        if let text = v.smtpMessage { messages["smtp_message"] = text }
        result["messages"] = messages
        if let id = v.messageId { result["message-id"] = id.trimmingCharacters(in: CharacterSet(charactersIn: "<> ")) }
        if !v.addHeaders.isEmpty {
            var add: [String: Any] = [:]
            for (name, value) in v.addHeaders { add[name] = ["value": value, "order": -1] as [String: Any] }
            result["milter"] = ["add_headers": add]
        }
        if v1 {
            var metric = result
            metric["is_spam"] = v.isSpam
            metric.removeValue(forKey: "symbols")
            for (name, symbol) in symbols { metric[name] = symbol }
            result = ["default": metric, "messages": messages]
        }
        let data = (try? JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])) ?? Data("{}".utf8)
        return [UInt8](data)
    }

    /// The RSPAMC reply (rspamd protocol.c): Exim reads the Metric line and `Action:`, and
    /// `$spam_report` is the rest (so the rule's text is on a `Message:` line).
    public static func legacy(_ v: RspamdVerdict, version: String) -> [UInt8] {
        var lines = ["RSPAMD/1.3 0 EX_OK",
                     "Metric: default; \(v.isSpam ? "True" : "False"); \(number(v.score)) / \(number(v.requiredScore)) / 0.0",
                     "Action: \(v.action)"]
        for s in v.symbols { lines.append("Symbol: \(s.name)(\(number(s.score)))") }
        if let text = v.smtpMessage { lines.append("Message: " + oneLine(text)) }
        for (name, value) in v.addHeaders { lines.append("X-Milter-Add: \(name): \(oneLine(value))") }
        if let id = v.messageId { lines.append("Message-ID: " + oneLine(id)) }
        return Array(lines.map { $0 + "\r\n" }.joined().utf8)
    }

    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    public static func http(status: Int, body: [UInt8], contentType: String = "application/json", keepAlive: Bool) -> [UInt8] {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 408: "Request Timeout", 411: "Length Required",
                      413: "Payload Too Large", 415: "Unsupported Media Type", 431: "Request Header Fields Too Large",
                      500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"][status] ?? "Error"
        let head = "HTTP/1.1 \(status) \(reason)\r\nServer: rspamd (Moat)\r\nContent-Type: \(contentType)\r\n"
            + "Content-Length: \(body.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// rspamd's error object, for replies that are not errors of Moat (208 already learned).
    static func errorBody(_ text: String) -> [UInt8] {
        Array(#"{"error":"\#(oneLine(text).replacingOccurrences(of: "\"", with: "'"))","error_domain":"moat"}"#.utf8)
    }

    public static func error(_ e: RspamdError, legacy: Bool) -> [UInt8] {
        let text = oneLine(e.text).replacingOccurrences(of: "\"", with: "'")
        if legacy { return Array("RSPAMD/1.3 \(e.status) \(text)\r\n".utf8) }
        return http(status: e.status, body: Array(#"{"error":"\#(text)","error_domain":"moat"}"#.utf8), keepAlive: false)
    }
}
