import MIME

/// What rules read from the message besides scan results: the top-level header fields and
/// the text of the body, bounded so a huge text part cannot make rule matching slow.
struct MessageContent: Sendable {
    static let maxBodyText = 1 << 20

    var headers: [(name: String, value: String)] = []
    var bodyText = ""

    init() {}

    init(_ message: MIMEMessage) {
        headers = message.root.headers.map { ($0.name, $0.value) }
        var text = ""
        for part in message.leaves where part.contentType.type == "text" && part.kind == .leaf && !part.isAttachment {
            guard text.utf8.count < Self.maxBodyText else { break }
            if let decoded = message.text(of: part) {
                text += decoded.utf8.count + text.utf8.count > Self.maxBodyText
                    ? String(decoded.utf8.prefix(Self.maxBodyText - text.utf8.count)) ?? ""
                    : decoded
                text += "\n"
            }
        }
        bodyText = text
    }
}
