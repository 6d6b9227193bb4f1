import Foundation

/// What a mail client reading its mailbox (POP3, IMAP, through the Gate) gets in place of a
/// message the core refused. The message is already in the mailbox: such a client cannot be
/// told "rejected" (it would retry for ever or show an error), so a refusal delivers a
/// replacement: the repacked message (threats moved to the protected archive), or a notice.
public enum MailboxReplacement {
    /// The bytes to deliver instead of `message`; nil when the message is delivered as it is.
    public static func replacement(for decision: Decision, message: [UInt8], profile: CheckProfile) -> [UInt8]? {
        switch decision.mailAction {
        case .pass:
            return nil
        case .repack(let repacked, _):
            return repacked
        case .reject(let text), .tempfail(let text):
            return replacement(for: message, decision: decision, profile: profile, text: text)
        case .discard:
            return replacement(for: message, decision: decision, profile: profile, text: nil)
        }
    }

    /// The repacked message when the report names parts to remove, else a short notice.
    static func replacement(for message: [UInt8], decision: Decision, profile: CheckProfile, text: String?) -> [UInt8] {
        let reason = text ?? decision.reason
        if let result = try? Repacker(settings: profile.repack).repack(message, report: decision.report, reason: reason) {
            return result.message
        }
        return notice(for: message, reason: reason)
    }

    /// A text/plain message with the original's From, To, Cc, Subject, Date and Message-ID
    /// saying it was blocked and why.
    public static func notice(for message: [UInt8], reason: String) -> [UInt8] {
        let keep: Set<String> = ["from", "to", "cc", "subject", "date", "message-id"]
        var header: [UInt8] = []
        var copying = false
        var start = 0
        var index = 0
        // Header lines up to the first empty line; continuation lines follow their field.
        while index < message.count {
            guard let end = message[index...].firstIndex(of: 10) else { break }
            let line = Array(message[start...end])
            index = end + 1
            start = index
            if line == [13, 10] || line == [10] { break }
            if line.first == 32 || line.first == 9 {
                if copying { header += line }
                continue
            }
            let name = line.firstIndex(of: UInt8(ascii: ":")).map { String(decoding: line[..<$0], as: UTF8.self).lowercased() }
            copying = name.map { keep.contains($0.trimmingCharacters(in: .whitespaces)) } ?? false
            if copying {
                header += line
                if line.last == 10, line.dropLast().last != 13 { header.insert(13, at: header.count - 1) }
            }
        }
        let oneLine = reason.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        let body = "This message was blocked by Moat and is not delivered.\r\nReason: \(oneLine)\r\n"
        let text = "X-Moat-Blocked: \(oneLine)\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Transfer-Encoding: 8bit\r\n\r\n" + body
        return header + Array(text.utf8)
    }
}

