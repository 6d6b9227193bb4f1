import Foundation
import MailD
import Policy

/// A decision of the core as milter replies to the end of message:
///
/// | action | replies |
/// |---|---|
/// | PASS | ADDHEADER for each header the rules add, ACCEPT |
/// | REJECT "text" | REPLYCODE `550 5.7.1 text` |
/// | TEMPFAIL "text" | REPLYCODE `451 4.7.1 text` |
/// | DISCARD | DISCARD |
/// | REPACK | CHGHEADER/ADDHEADER for the MIME headers that changed, the added headers, REPLBODY, ACCEPT; a REJECT when there is no repacked message or the MTA did not allow body changes |
public enum VerdictReplies {
    public static func replies(for decision: Decision, actions: Milter.Actions, leadingSpace: Bool,
                               originalHeaders: [(name: String, value: String)]) -> [MilterReply] {
        let added = actions.contains(.addHeaders)
            ? decision.headersToAdd.map { MilterReply.addHeader(name: $0.name, value: headerValue($0.value, leadingSpace: leadingSpace)) }
            : []
        switch decision.action {
        case .pass, .scanMail:
            return added + [.accept]
        case .reject(let text):
            return [.replyCode(smtpReply(550, "5.7.1", text ?? FinalAction.defaultRejectText))]
        case .tempfail(let text):
            return [.replyCode(smtpReply(451, "4.7.1", text ?? FinalAction.defaultTempfailText))]
        case .discard:
            return [.discard]
        case .repack(let text):
            guard let repacked = decision.repackedMessage, actions.contains(.changeBody),
                  actions.contains(.changeHeaders), actions.contains(.addHeaders) else {
                // Never pass a threat silently: without the repacked message, refuse it.
                return [.replyCode(smtpReply(550, "5.7.1", text ?? FinalAction.defaultRepackReason))]
            }
            return repack(repacked, originalHeaders: originalHeaders, leadingSpace: leadingSpace) + added + [.accept]
        }
    }

    /// `550 5.7.1 text` on one line: CR, LF and NUL become spaces, `%` is doubled (Sendmail reads
    /// the text as a format; Postfix un-doubles it), and the line stays within SMTP's 512.
    public static func smtpReply(_ code: Int, _ enhanced: String, _ text: String) -> String {
        var clean = String(text.unicodeScalars.map { scalar -> Character in
            scalar == "\r" || scalar == "\n" || scalar == "\0" || scalar == "\t" ? " " : Character(scalar)
        })
        clean = clean.trimmingCharacters(in: .whitespaces)
        if clean.isEmpty { clean = code >= 500 ? FinalAction.defaultRejectText : FinalAction.defaultTempfailText }
        if clean.utf8.count > 400 { clean = String(clean.prefix(400)) }
        return "\(code) \(enhanced) " + clean.replacingOccurrences(of: "%", with: "%%")
    }

    /// A header value to add: non-ASCII text as RFC 2047 encoded words (UTF-8, base64), folded
    /// with LF + space as milter values are; with HDR_LEADSPC the space after the colon is ours.
    public static func headerValue(_ value: String, leadingSpace: Bool) -> String {
        let flat = value.replacingOccurrences(of: "\r", with: "").split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        let encoded = flat.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F })
            ? flat : encodedWords(flat)
        return leadingSpace ? " " + encoded : encoded
    }

    static func encodedWords(_ text: String) -> String {
        // 45 bytes of UTF-8 -> 60 base64 characters: each word stays under 75 characters.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append(word(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words.joined(separator: "\n ")
    }

    private static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?" + Base64.encode(bytes) + "?=" }

    static let mimeHeaders = ["MIME-Version", "Content-Type", "Content-Transfer-Encoding"]

    /// Edits that turn the original message into `repacked`: the MIME headers that differ
    /// (changed, added or removed), header fields the repacked message has and the original
    /// had not, then the new body in chunks the MTA takes.
    static func repack(_ repacked: [UInt8], originalHeaders: [(name: String, value: String)],
                       leadingSpace: Bool) -> [MilterReply] {
        let (fields, bodySlice) = split(repacked)
        let body = Array(bodySlice)
        var replies: [MilterReply] = []
        func normal(_ v: String) -> String { v.trimmingCharacters(in: .whitespacesAndNewlines) }
        func milterValue(_ raw: String) -> String {
            let lf = raw.replacingOccurrences(of: "\r\n", with: "\n")
            if leadingSpace { return lf }
            return lf.hasPrefix(" ") ? String(lf.dropFirst()) : lf
        }
        func original(_ name: String) -> String? {
            originalHeaders.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
        for name in mimeHeaders {
            let new = fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            let old = original(name)
            switch (old, new) {
            case let (old?, new?) where normal(old) != normal(new.value):
                replies.append(.changeHeader(index: 1, name: name, value: milterValue(new.value)))
            case (nil, let new?):
                replies.append(.addHeader(name: new.name, value: milterValue(new.value)))
            case (_?, nil):
                replies.append(.changeHeader(index: 1, name: name, value: ""))
            default:
                break
            }
        }
        for field in fields where !mimeHeaders.contains(where: { $0.caseInsensitiveCompare(field.name) == .orderedSame })
            && original(field.name) == nil {
            replies.append(.addHeader(name: field.name, value: milterValue(field.value)))
        }
        var offset = 0
        repeat {
            let end = min(offset + Milter.chunkSize, body.count)
            replies.append(.replaceBody(Array(body[offset..<end])))
            offset = end
        } while offset < body.count
        return replies
    }

    /// Header fields (value = what follows the colon, folds kept as CRLF) and the body.
    static func split(_ message: [UInt8]) -> (fields: [(name: String, value: String)], body: ArraySlice<UInt8>) {
        var fields: [(name: String, value: String)] = []
        var index = 0
        var lines: [ArraySlice<UInt8>] = []
        while index < message.count {
            var end = index
            while end < message.count, message[end] != 0x0A { end += 1 }
            var line = message[index..<end]
            if line.last == 0x0D { line = line.dropLast() }
            index = min(end + 1, message.count)
            if line.isEmpty { break }
            lines.append(line)
        }
        for line in lines {
            if line.first == 0x20 || line.first == 0x09, !fields.isEmpty {
                fields[fields.count - 1].value += "\r\n" + String(decoding: line, as: UTF8.self)
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                fields.append((String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces),
                               String(decoding: line[(colon + 1)...], as: UTF8.self)))
            }
        }
        return (fields, message[index...])
    }
}

enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0xF) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
