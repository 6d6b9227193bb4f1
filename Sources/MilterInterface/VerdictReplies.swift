import Foundation
import MailD

/// A decision of the core as milter replies to the end of message:
///
/// | action | replies |
/// |---|---|
/// | PASS | ADDHEADER for each header the rules add, INSHEADER at 0 for Moat's ARC seal, ACCEPT |
/// | REJECT "text" | REPLYCODE `550 5.7.1 text` |
/// | TEMPFAIL "text" | REPLYCODE `451 4.7.1 text` |
/// | DISCARD | DISCARD |
/// | REPACK | CHGHEADER/ADDHEADER for the MIME headers that changed, the added headers, REPLBODY, ACCEPT; a REJECT when there is no repacked message or the MTA did not allow body changes |
public enum VerdictReplies {
    public static func replies(for decision: Decision, actions: Milter.Actions, leadingSpace: Bool,
                               originalHeaders: [(name: String, value: String)]) -> [MilterReply] {
        // ARC seals go on top: each inserted at 0, the last (ARC-Seal) ending up first.
        let sealed = actions.contains(.addHeaders)
            ? decision.sealHeaders.reversed().map { field in
                MilterReply.insertHeader(index: 0, name: field.name,
                                         value: (leadingSpace ? " " : "") + field.value(folding: "\n\t"))
            }
            : []
        // Forged fields in Moat's name go first, last occurrence first so the indices hold.
        let forged = actions.contains(.changeHeaders)
            ? decision.forgedAuthenticationResults.sorted(by: >).map {
                MilterReply.changeHeader(index: UInt32($0), name: "Authentication-Results", value: "")
            }
            : []
        let added = forged + (actions.contains(.addHeaders)
            ? decision.addedHeaders.map { MilterReply.addHeader(name: $0.name, value: milterValue($0, leadingSpace: leadingSpace)) }
                + sealed
            : [])
        switch decision.mailAction {
        case .pass:
            return added + [.accept]
        case .reject(let text):
            return [.replyCode(smtpReply(550, "5.7.1", text))]
        case .tempfail(let text):
            return [.replyCode(smtpReply(451, "4.7.1", text))]
        case .discard:
            return [.discard]
        case .repack(let repacked, let text):
            guard actions.contains(.changeBody), actions.contains(.changeHeaders), actions.contains(.addHeaders) else {
                // Never pass a threat silently: without the right to change the message, refuse it.
                return [.replyCode(smtpReply(550, "5.7.1", text))]
            }
            let edits = RepackEdits(repacked: repacked, originalHeaders: originalHeaders)
            return repack(edits, leadingSpace: leadingSpace) + added + [.accept]
        }
    }

    /// `550 5.7.1 text` on one line: CR, LF and NUL become spaces, `%` is doubled (Sendmail reads
    /// the text as a format; Postfix un-doubles it), and the line stays within SMTP's 512.
    public static func smtpReply(_ code: Int, _ enhanced: String, _ text: String) -> String {
        var clean = String(text.unicodeScalars.map { scalar -> Character in
            scalar == "\r" || scalar == "\n" || scalar == "\0" || scalar == "\t" ? " " : Character(scalar)
        })
        clean = clean.trimmingCharacters(in: .whitespaces)
        if clean.isEmpty { clean = code >= 500 ? MailAction.defaultRejectText : MailAction.defaultTempfailText }
        if clean.utf8.count > 400 { clean = String(clean.prefix(400)) }
        return "\(code) \(enhanced) " + clean.replacingOccurrences(of: "%", with: "%%")
    }

    /// A header value as a milter sends it: folded with LF + space; with HDR_LEADSPC the space
    /// after the colon is ours.
    static func milterValue(_ header: AddedHeader, leadingSpace: Bool) -> String {
        let encoded = header.encodedValue(folding: "\n ")
        return leadingSpace ? " " + encoded : encoded
    }

    /// A header value to add, as `milterValue` writes it.
    public static func headerValue(_ value: String, leadingSpace: Bool) -> String {
        milterValue(AddedHeader(name: "X", value: value), leadingSpace: leadingSpace)
    }

    /// The core's edits as milter replies: header changes, then the new body in chunks the MTA takes.
    static func repack(_ edits: RepackEdits, leadingSpace: Bool) -> [MilterReply] {
        func milterValue(_ raw: String) -> String {
            let lf = raw.replacingOccurrences(of: "\r\n", with: "\n")
            if leadingSpace { return lf }
            return lf.hasPrefix(" ") ? String(lf.dropFirst()) : lf
        }
        var replies: [MilterReply] = edits.headers.map { edit in
            switch edit {
            case .change(let name, let value): .changeHeader(index: 1, name: name, value: value.isEmpty ? "" : milterValue(value))
            case .add(let name, let value): .addHeader(name: name, value: milterValue(value))
            }
        }
        let body = edits.body
        var offset = 0
        repeat {
            let end = min(offset + Milter.chunkSize, body.count)
            replies.append(.replaceBody(Array(body[offset..<end])))
            offset = end
        } while offset < body.count
        return replies
    }
}
