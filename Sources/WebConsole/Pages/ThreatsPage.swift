import MailD

/// The latest verdicts on messages with threats.
enum ThreatsPage {
    static func render(_ events: [ThreatEvent], csrf: String) -> HTML {
        let rows = events.map { e -> HTML in
            let threats = e.threats.map { t -> HTML in "\(t)<br>" }
            return """
                <tr><td>\(Layout.time(e.time))</td><td>\(e.interface)</td><td>\(e.action)</td><td>\(threats)</td>\
                <td>\(e.sender)</td><td>\(e.recipients.joined(separator: ", "))</td><td>\(e.subject)</td>\
                <td>\(e.messageId)\(e.queueId.map { " (queue \($0))" })</td><td>\(e.client)</td><td>\(e.reason)</td></tr>
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
