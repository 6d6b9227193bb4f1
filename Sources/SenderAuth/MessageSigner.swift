import Foundation

// Making a DKIM-Signature or ARC-Message-Signature (RFC 6376 §5, RFC 8617 §4.1.2): relaxed/relaxed,
// the fields that carry the message's meaning, each instance present signed once.

/// A header field made by the signer or sealer, ready to put in front of the message.
public struct SignedHeaderField: Sendable, Hashable {
    public var name: String
    /// The value's lines; they join with a fold (line break then white space) between them.
    public var segments: [String]

    /// The value, folded with `folding` ("\r\n\t" in a message, "\n\t" for a milter's insheader).
    public func value(folding: String = "\r\n\t") -> String { segments.joined(separator: folding) }

    /// `Name: value` with its CRLF.
    public var line: String { "\(name): \(value())\r\n" }
}

struct MessageSigner: Sendable {
    var domain: String
    var selector: String
    var key: SigningKey

    /// The fields signed when present (RFC 6376 §5.4.1's list, plus lists' and DKIM fields);
    /// trace and ARC fields are not: they change or are added on the way.
    static let defaultHeaders = [
        "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc", "mime-version",
        "content-type", "content-transfer-encoding", "content-id", "content-description",
        "resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-message-id",
        "in-reply-to", "references", "list-id", "list-help", "list-unsubscribe", "list-subscribe",
        "list-post", "list-owner", "list-archive", "dkim-signature",
    ]

    /// Signs `fields` with the leading tags given (`v=1` or `i=N`); returns the field.
    func sign(_ fields: MessageFields, name: String, leadingTags: [String], headers: [String], time: Int) throws -> SignedHeaderField {
        var bodyHasher = BodyHasher(.relaxed, limit: nil)
        bodyHasher.update(fields.body)
        let bodyHash = Data(bodyHasher.finish().digest).base64EncodedString()
        // Each instance of a wanted field once, in the order the verifier will pick them (bottom-up).
        let wanted = Set(headers)
        let signed = fields.fields.reversed().filter { wanted.contains($0.name) }.map(\.name)
        var segments = [(leadingTags + ["a=\(key.algorithm.rawValue)", "c=relaxed/relaxed", "d=\(domain)", "s=\(selector)"])
            .joined(separator: "; ") + ";"]
        segments.append("t=\(time); h=" + signed.joined(separator: ":") + ";")
        segments.append("bh=\(bodyHash);")
        // What is signed is the field exactly as written, folds included: fold first.
        segments = Self.fold(segments) + ["b="]
        let b = try signature(over: fields, name: name, segments: segments, names: signed)
        segments.removeLast()
        return SignedHeaderField(name: name, segments: segments + Self.fold(["b=" + b]))
    }

    /// The base64 signature of a field whose `b=` is still empty.
    func signature(over fields: MessageFields, name: String, segments: [String], names: [String]) throws -> String {
        let field = Array("\(name): \(segments.joined(separator: "\r\n\t"))".utf8)
        let data = SignedData.headerData(names: names, canon: .relaxed, in: fields, signatureField: field[...],
                                         colon: name.utf8.count, blank: nil)
        return Data(try key.sign(data)).base64EncodedString()
    }

    /// Long segments (the `h=` list, `b=`) cut in lines of at most 72 bytes; `h=` at colons.
    static func fold(_ segments: [String]) -> [String] {
        var out: [String] = []
        for segment in segments {
            if segment.utf8.count <= 72 { out.append(segment); continue }
            if segment.hasPrefix("b=") || segment.hasPrefix("bh=") {
                var rest = Substring(segment)
                while !rest.isEmpty { out.append(String(rest.prefix(72))); rest = rest.dropFirst(72) }
                continue
            }
            var line = ""
            for piece in segment.split(separator: ":", omittingEmptySubsequences: false).enumerated() {
                let part = (piece.offset == 0 ? "" : ":") + piece.element
                if line.utf8.count + part.utf8.count > 72, !line.isEmpty { out.append(line); line = "" }
                line += part
            }
            if !line.isEmpty { out.append(line) }
        }
        return out
    }
}
