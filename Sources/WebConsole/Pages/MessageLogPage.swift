import Foundation
import Storage

/// The message log: one row per verdict of every node sharing the database, searched by
/// sender, recipient, Message-ID, verdict and time.
enum MessageLogPage {
    struct Search: Sendable {
        var sender = "", recipient = "", messageId = "", verdict = "", since = "", until = ""
    }

    static func render(_ entries: [MessageLogEntry], search: Search, limit: Int, csrf: String, notice: Notice? = nil) -> HTML {
        let u = HTML.untrusted
        let rows = entries.map { e -> HTML in
            let spam: HTML = e.spamScore.map { HTML(trusted: String(format: "%.1f", $0)) } ?? ""
            let quarantined: HTML = e.quarantineId.map { "<a href=\"/quarantine/item?id=\(u($0))\">kept</a>" } ?? ""
            return """
                <tr><td>\(Layout.time(e.time))</td><td>\(u(e.node))</td><td>\(u(e.interface))</td><td>\(u(e.clientAddress))</td>\
                <td>\(u(e.sender))</td><td>\(u(e.recipients.joined(separator: ", ")))</td><td>\(u(e.messageId))</td>\
                <td>\(u(e.subject))</td><td>\(e.size)</td><td>\(u(e.verdict))</td><td>\(u(e.threats.joined(separator: "; ")))</td>\
                <td>\(spam)</td><td>\(u(e.spamSymbols.joined(separator: " ")))</td><td>\(quarantined)</td></tr>
                """
        }
        let table: HTML = entries.isEmpty
            ? "<p>No message matches.</p>"
            : """
              <table><tr><th>Time</th><th>Node</th><th>Interface</th><th>Client</th><th>From</th><th>To</th><th>Message-ID</th>\
              <th>Subject</th><th>Bytes</th><th>Verdict</th><th>Threats</th><th>Spam</th><th>Symbols</th><th>Quarantine</th></tr>\(rows)</table>
              """
        let more: HTML = entries.count >= limit ? "<p>The first \(limit) rows are shown; narrow the search for the rest.</p>" : ""
        let content: HTML = """
            <p>One row per verdict of every gateway sharing this database, newest first (<code>moat-ctl log search</code>
            gives the same). Times: <code>2026-12-06</code> or <code>2026-12-06T10:00</code>, UTC.</p>
            \(QuarantinePage.searchForm(action: "/log", fields: [
                ("sender", "From", search.sender), ("recipient", "To", search.recipient),
                ("message_id", "Message-ID", search.messageId), ("verdict", "Verdict", search.verdict),
                ("since", "Since", search.since), ("until", "Until", search.until),
            ]))
            \(table)\(more)
            """
        return Layout.page(title: "Message log", path: "/log", csrf: csrf, notice: notice, content: content)
    }

    /// `2026-12-06`, `2026-12-06T10:00` or `2026-12-06T10:00:00` (UTC); nil otherwise.
    static func date(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text.trimmingCharacters(in: .whitespaces)) { return date }
        }
        return nil
    }
}
