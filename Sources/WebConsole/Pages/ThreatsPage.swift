import MailD

/// The latest verdicts on messages with threats.
enum ThreatsPage {
    static func render(_ events: [ThreatEvent], csrf: String) -> HTML {
        let rows = events.map { e -> HTML in
            // Every field but the time quotes a peer or a message: escaped for HTML and made
            // safe (no control characters, bidi overrides or unbounded length).
            let u = HTML.untrusted
            let threats = e.threats.map { t -> HTML in "\(u(t))<br>" }
            return """
                <tr><td>\(Layout.time(e.time))</td><td>\(u(e.interface))</td><td>\(u(e.action))</td><td>\(threats)</td>\
                <td>\(u(e.sender))</td><td>\(u(e.recipients.joined(separator: ", ")))</td><td>\(u(e.subject))</td>\
                <td>\(u(e.messageId))\(u(e.queueId.map { " (queue \($0))" }))</td><td>\(u(e.client))</td><td>\(u(e.reason))</td></tr>
                """
        }
        let table: HTML = events.isEmpty
            ? "<p>No threat found since moatd started.</p>"
            : """
              <table><tr><th>Time</th><th>Interface</th><th>Action</th><th>Threats</th><th>From</th><th>To</th>\
              <th>Subject</th><th>Message</th><th>Client</th><th>Reason</th></tr>\(rows)</table>
              """
        let content: HTML = """
            <p>The latest verdicts on messages with threats, newest first, kept in moatd's memory (the last 200)
            since it started. Every verdict is also one <code>verdict</code> line in MailD's log.</p>\(table)
            """
        return Layout.page(title: "Threats", path: "/threats", csrf: csrf, content: content)
    }
}
