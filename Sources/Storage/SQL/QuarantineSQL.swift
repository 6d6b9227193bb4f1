import Foundation

/// The quarantine's statements.
enum QuarantineSQL {
    static let columnList = ["id", "time_ms", "node", "kind", "interface", "client_address", "sender", "sender_key",
                             "recipients", "message_id", "subject", "size", "verdict", "threats", "reason", "file",
                             "message_ref", "released_ms", "released_by"]
    static let columns = columnList.joined(separator: ", ")

    static func insert(_ r: QuarantineRecord) -> SQLStatement {
        SQLStatement("""
            INSERT INTO quarantine (\(columns)) VALUES \
            (\(Array(repeating: "?", count: columnList.count).joined(separator: ", "))) ON CONFLICT (id) DO NOTHING
            """, [.text(r.id), .int(r.time.milliseconds), .text(r.node), .text(r.kind.rawValue), .text(r.interface),
                  SQLValue(r.clientAddress), SQLValue(r.sender), SQLValue(r.sender?.lowercased()),
                  .text(JSONList.encode(r.recipients)), SQLValue(r.messageId), SQLValue(r.subject), .int(Int64(r.size)),
                  .text(r.verdict), .text(JSONList.encode(r.threats)), .text(r.reason), .text(r.file),
                  SQLValue(r.messageRef), SQLValue(r.releasedAt?.milliseconds), SQLValue(r.releasedBy)])
    }

    static func search(_ q: QuarantineQuery) -> SQLStatement {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let sender = q.sender {
            conditions.append("sender_key = ?")
            arguments.append(.text(sender.lowercased()))
        }
        if let recipient = q.recipient {
            // The quarantine is small next to the log: the JSON list is searched as text.
            conditions.append("LOWER(recipients) LIKE ? ESCAPE '\\'")
            arguments.append(.text("%" + likeEscaped(JSONList.encode([recipient.lowercased()]).dropFirst().dropLast()) + "%"))
        }
        if let messageId = q.messageId {
            conditions.append("message_id = ?")
            arguments.append(.text(messageId))
        }
        if let kind = q.kind {
            conditions.append("kind = ?")
            arguments.append(.text(kind.rawValue))
        }
        if let since = q.since {
            conditions.append("time_ms >= ?")
            arguments.append(.int(since.milliseconds))
        }
        if let until = q.until {
            conditions.append("time_ms < ?")
            arguments.append(.int(until.milliseconds))
        }
        let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments.append(.int(Int64(max(1, min(q.limit, 10_000)))))
        return SQLStatement("SELECT \(columns) FROM quarantine\(condition) ORDER BY time_ms DESC, id LIMIT ?", arguments)
    }

    static func likeEscaped<S: StringProtocol>(_ text: S) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    static func record(_ row: SQLRow) -> QuarantineRecord {
        QuarantineRecord(id: row[0].text ?? "", time: Date(milliseconds: row[1].int ?? 0), node: row[2].text ?? "",
                         kind: QuarantineRecord.Kind(rawValue: row[3].text ?? "") ?? .message, interface: row[4].text ?? "",
                         clientAddress: row[5].text, sender: row[6].text, recipients: JSONList.decode(row[8]),
                         messageId: row[9].text, subject: row[10].text, size: Int(row[11].int ?? 0),
                         verdict: row[12].text ?? "", threats: JSONList.decode(row[13]), reason: row[14].text ?? "",
                         file: row[15].text ?? "", messageRef: row[16].text,
                         releasedAt: row[17].int.map(Date.init(milliseconds:)), releasedBy: row[18].text)
    }
}
