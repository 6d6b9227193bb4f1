import Foundation

/// The message log's statements.
enum LogSQL {
    static let columnList = ["id", "time_ms", "node", "event", "interface", "client_address", "sender", "sender_key",
                             "recipients", "message_id", "subject", "size", "verdict", "threats", "spam_score",
                             "spam_symbols", "reason", "quarantine_id"]
    static let columns = columnList.map { "m." + $0 }.joined(separator: ", ")

    static func insert(_ entries: [MessageLogEntry]) -> SQLStatement {
        let row = "(" + Array(repeating: "?", count: columnList.count).joined(separator: ", ") + ")"
        var arguments: [SQLValue] = []
        arguments.reserveCapacity(entries.count * columnList.count)
        for e in entries {
            arguments += [.text(e.id), .int(e.time.milliseconds), .text(e.node), .text(e.event), .text(e.interface),
                          SQLValue(e.clientAddress), SQLValue(e.sender), SQLValue(e.sender?.lowercased()),
                          .text(JSONList.encode(e.recipients)), SQLValue(e.messageId), SQLValue(e.subject),
                          .int(Int64(e.size)), .text(e.verdict), .text(JSONList.encode(e.threats)), SQLValue(e.spamScore),
                          .text(JSONList.encode(e.spamSymbols)), .text(e.reason), SQLValue(e.quarantineId)]
        }
        return SQLStatement("""
            INSERT INTO message_log (\(columnList.joined(separator: ", "))) VALUES \
            \(Array(repeating: row, count: entries.count).joined(separator: ", ")) \
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, arguments)
    }

    /// One row per distinct lower-cased recipient of each entry.
    static func recipients(_ entries: [MessageLogEntry]) -> [SQLStatement] {
        var rows: [(String, String, Int64)] = []
        for e in entries {
            for recipient in Set(e.recipients.map { $0.lowercased() }) { rows.append((e.id, recipient, e.time.milliseconds)) }
        }
        return stride(from: 0, to: rows.count, by: 500).map { start in
            let slice = rows[start..<min(start + 500, rows.count)]
            return SQLStatement("""
                INSERT INTO message_log_recipients (log_id, recipient, time_ms) VALUES \
                \(Array(repeating: "(?, ?, ?)", count: slice.count).joined(separator: ", ")) \
                ON CONFLICT (log_id, recipient) DO NOTHING
                """, slice.flatMap { [SQLValue.text($0.0), .text($0.1), .int($0.2)] })
        }
    }

    /// Newest first. A recipient search walks the (recipient, time) index and joins the rows.
    static func search(_ q: LogQuery) -> SQLStatement {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        var from = "message_log m"
        var timeColumn = "m.time_ms"
        if let recipient = q.recipient {
            from = "message_log_recipients r JOIN message_log m ON m.id = r.log_id"
            timeColumn = "r.time_ms"
            conditions.append("r.recipient = ?")
            arguments.append(.text(recipient.lowercased()))
        }
        if let sender = q.sender {
            conditions.append("m.sender_key = ?")
            arguments.append(.text(sender.lowercased()))
        }
        if let messageId = q.messageId {
            conditions.append("m.message_id = ?")
            arguments.append(.text(messageId))
        }
        if let verdict = q.verdict {
            conditions.append("m.verdict = ?")
            arguments.append(.text(verdict))
        }
        if let node = q.node {
            conditions.append("m.node = ?")
            arguments.append(.text(node))
        }
        if let since = q.since {
            conditions.append("\(timeColumn) >= ?")
            arguments.append(.int(since.milliseconds))
        }
        if let until = q.until {
            conditions.append("\(timeColumn) < ?")
            arguments.append(.int(until.milliseconds))
        }
        let condition = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments.append(.int(Int64(max(1, min(q.limit, 10_000)))))
        return SQLStatement("SELECT \(columns) FROM \(from)\(condition) ORDER BY \(timeColumn) DESC, m.id LIMIT ?", arguments)
    }

    static func entry(_ row: SQLRow) -> MessageLogEntry {
        MessageLogEntry(id: row[0].text ?? "", time: Date(milliseconds: row[1].int ?? 0), node: row[2].text ?? "",
                        event: row[3].text ?? "", interface: row[4].text ?? "", clientAddress: row[5].text,
                        sender: row[6].text, recipients: JSONList.decode(row[8]), messageId: row[9].text,
                        subject: row[10].text, size: Int(row[11].int ?? 0), verdict: row[12].text ?? "",
                        threats: JSONList.decode(row[13]), spamScore: row[14].double,
                        spamSymbols: JSONList.decode(row[15]), reason: row[16].text ?? "", quarantineId: row[17].text)
    }
}

/// The hourly counters, fed from the log rows as they are inserted.
enum StatisticsSQL {
    static let hour: Int64 = 3_600_000

    static func add(_ entries: [MessageLogEntry]) -> [SQLStatement] {
        struct Key: Hashable { var hour: Int64; var node, interface, verdict: String }
        var counts: [Key: Int64] = [:]
        for e in entries where e.event == "verdict" {
            let ms = e.time.milliseconds
            counts[Key(hour: ms - ((ms % hour) + hour) % hour, node: e.node, interface: e.interface, verdict: e.verdict), default: 0] += 1
        }
        return counts.sorted { ($0.key.hour, $0.key.interface, $0.key.verdict) < ($1.key.hour, $1.key.interface, $1.key.verdict) }
            .map { key, count in
                SQLStatement("""
                    INSERT INTO statistics_hourly (hour_ms, node, interface, verdict, messages) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (hour_ms, node, interface, verdict) DO UPDATE SET messages = statistics_hourly.messages + excluded.messages
                    """, [.int(key.hour), .text(key.node), .text(key.interface), .text(key.verdict), .int(count)])
            }
    }
}
