import Foundation
import MIME

/// Anomalies of the MIME structure that senders of bulk mail produce and mail programs do not.
struct MIMERules: SpamRule {
    func evaluate(_ m: AnalysedMessage, now: Date, into symbols: inout [SpamSymbol]) {
        // Not blank: some byte other than a space, a tab or a CR (stops at the first).
        let plain = m.plainParts.filter { $0.text.utf8.contains { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D } }
        let html = m.htmlParts
        if !html.isEmpty && plain.isEmpty {
            symbols.append(.init(name: "MIME_HTML_ONLY", score: 0.7, description: "HTML only, no text alternative"))
        }
        if let p = plain.first, let h = html.first, m.mimeTypes.contains("multipart/alternative"),
           Self.differ(p.text, h.text) {
            symbols.append(.init(name: "MIME_HTML_MISMATCH", score: 1.0, description: "text and HTML alternatives say different things"))
        }
        if m.textParts.contains(where: { $0.transferEncoding == .base64 && Self.mostlyASCII($0.text) }) {
            symbols.append(.init(name: "MIME_BASE64_TEXT", score: 1.0, description: "plain ASCII text sent base64-encoded"))
        }
        if m.textParts.contains(where: \.charsetMismatch) {
            symbols.append(.init(name: "MIME_CHARSET_MISMATCH", score: 0.5, description: "text not valid in its declared charset"))
        }
        let malformed = m.problems.contains {
            switch $0 {
            case .boundaryNotFound, .missingBoundaryParameter, .malformedContentType, .invalidBase64: true
            default: false
            }
        }
        if malformed {
            symbols.append(.init(name: "MIME_MALFORMED", score: 0.5, description: "broken MIME structure"))
        }
        if html.contains(where: \.nestingLimitHit) {
            symbols.append(.init(name: "HTML_EXCESSIVE_NESTING", score: 1.5, description: "HTML nested deeper than mail programs write (hides text)"))
        }
        // Words are counted only for HTML with images and no text part (splitting every HTML
        // text into words was a tenth of the anti-spam rules' cost per message).
        let images = html.reduce(0) { $0 + $1.imageCount }
        if images > 0 && plain.isEmpty && !Self.hasWords(20, in: html.map(\.text)) {
            symbols.append(.init(name: "HTML_IMAGE_ONLY", score: 1.2, description: "HTML with images and almost no text"))
        }
    }

    /// Whether `texts` hold at least `wanted` words (runs between ASCII white space: a CR or a
    /// tab left over from the HTML source is no word), counted only as far as that: an image
    /// spam's HTML may carry pages of hidden text.
    static func hasWords(_ wanted: Int, in texts: [String]) -> Bool {
        var words = 0
        for text in texts {
            var inWord = false
            for byte in text.utf8 {
                if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 || byte == 0x0C {
                    inWord = false
                } else if !inWord {
                    inWord = true
                    words += 1
                    if words >= wanted { return true }
                }
            }
        }
        return false
    }

    /// Word sets of the two alternatives share less than a fifth.
    static func differ(_ a: String, _ b: String) -> Bool {
        let tokenizer = Tokenizer(maxTokens: 500)
        let x = Set(tokenizer.tokens(a)), y = Set(tokenizer.tokens(b))
        guard x.count >= 20, y.count >= 20 else { return false }
        return Double(x.intersection(y).count) / Double(x.union(y).count) < 0.2
    }

    static func mostlyASCII(_ text: String) -> Bool {
        var ascii = 0, total = 0
        for s in text.unicodeScalars.prefix(4000) {
            total += 1
            if s.isASCII { ascii += 1 }
        }
        return total >= 20 && Double(ascii) >= 0.98 * Double(total)
    }
}
