import Foundation
import MoatService
import Storage

/// The quarantine: a search and the kept items of every node sharing the database, and one
/// item in detail (its header fields, decoded, and its parts: never the message rendered).
enum QuarantinePage {
    struct Search: Sendable {
        var sender = "", recipient = "", messageId = ""
    }

    static func render(_ records: [QuarantineRecord], search: Search, csrf: String, notice: Notice? = nil) -> HTML {
        let u = HTML.untrusted
        let rows = records.map { r -> HTML in
            let released: HTML = r.releasedAt.map { "released \(Layout.time($0)) by \(u(r.releasedBy))" } ?? ""
            return """
                <tr><td><a href="/quarantine/item?id=\(r.id)">\(Layout.time(r.time))</a></td><td>\(u(r.node))</td>\
                <td>\(r.kind.rawValue)</td><td>\(u(r.interface))</td><td>\(u(r.sender))</td>\
                <td>\(u(r.recipients.joined(separator: ", ")))</td><td>\(u(r.subject))</td><td>\(u(r.verdict))</td>\
                <td>\(u(r.threats.joined(separator: "; ")))</td><td>\(released)</td></tr>
                """
        }
        let table: HTML = records.isEmpty
            ? "<p>Nothing in the quarantine matches.</p>"
            : """
              <table><tr><th>Time</th><th>Node</th><th>Kind</th><th>Interface</th><th>From</th><th>To</th>\
              <th>Subject</th><th>Verdict</th><th>Threats</th><th>Released</th></tr>\(rows)</table>
              """
        let content: HTML = """
            <p>Messages kept by the <code>QUARANTINE</code> rule action and the archives of repacked threats, of
            every gateway sharing this database, newest first.</p>
            \(searchForm(action: "/quarantine", fields: [("sender", "From", search.sender), ("recipient", "To", search.recipient),
                                                          ("message_id", "Message-ID", search.messageId)]))
            \(table)
            """
        return Layout.page(title: "Quarantine", path: "/quarantine", csrf: csrf, notice: notice, content: content)
    }

    static func item(_ detail: QuarantineDetail, csrf: String, notice: Notice? = nil) -> HTML {
        let u = HTML.untrusted, r = detail.record
        let facts: [(String, HTML)] = [
            ("Kept", "\(Layout.time(r.time)) on \(u(r.node)) (\(r.kind.rawValue), \(r.size) bytes)"),
            ("Interface", u(r.interface)), ("Client", u(r.clientAddress)), ("From", u(r.sender)),
            ("To", u(r.recipients.joined(separator: ", "))), ("Message-ID", u(r.messageId)), ("Subject", u(r.subject)),
            ("Verdict", u(r.verdict)), ("Threats", u(r.threats.joined(separator: "; "))), ("Reason", u(r.reason)),
            ("Released", r.releasedAt.map { "\(Layout.time($0)) by \(u(r.releasedBy))" } ?? "no"),
            ("Content", detail.source.map { "kept (\(u($0)))" } ?? "missing on this node and in the database"),
        ]
        let factRows = facts.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>" as HTML }
        let headers = detail.headers.map { "<tr><td>\(u($0.name))</td><td>\(u($0.value))</td></tr>" as HTML }
        let parts = detail.parts.map { p -> HTML in
            "<tr><td>\(u(p.path))</td><td>\(u(p.contentType))</td><td>\(u(p.filename))</td><td>\(p.size)</td></tr>"
        }
        let canRelease = r.kind == .message && r.releasedAt == nil && detail.source != nil
        let actions: HTML = """
            \(canRelease ? """
                <form method="post" action="/quarantine/release" class="inline"><input type="hidden" name="csrf" value="\(csrf)">\
                <input type="hidden" name="id" value="\(r.id)"><button type="submit">Release to the recipients</button></form>
                """ as HTML : "")
            <form method="post" action="/quarantine/delete" class="inline"><input type="hidden" name="csrf" value="\(csrf)">\
            <input type="hidden" name="id" value="\(r.id)"><button type="submit">Delete</button></form>
            """
        let headerTable: HTML = headers.isEmpty
            ? "<p>No header (an archive, or the content is missing).</p>"
            : "<table><tr><th>Field</th><th>Value</th></tr>\(headers)</table>"
        let partTable: HTML = parts.isEmpty
            ? "<p>No parts.</p>"
            : "<table><tr><th>Part</th><th>Type</th><th>File name</th><th>Bytes</th></tr>\(parts)</table>"
        let content: HTML = """
            <table class="facts">\(factRows)</table>
            <p>\(actions)</p>
            <h2>Header</h2>
            \(headerTable)
            <h2>Parts</h2>
            \(partTable)
            """
        return Layout.page(title: "Quarantined message", path: "/quarantine", csrf: csrf, notice: notice, content: content)
    }

    /// A GET form of text fields (a search: no state changes, so no CSRF token).
    static func searchForm(action: String, fields: [(name: String, label: String, value: String)], extra: HTML = "") -> HTML {
        let inputs = fields.map { f -> HTML in
            "<label>\(f.label) <input type=\"text\" name=\"\(f.name)\" value=\"\(f.value)\" size=\"24\"></label> "
        }
        return "<form method=\"get\" action=\"\(action)\" class=\"search\">\(inputs)\(extra)<button type=\"submit\">Search</button></form>"
    }
}
