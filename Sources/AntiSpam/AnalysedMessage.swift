import Foundation
import MIME

/// A message as the classifier and the rules see it: decoded headers, the text of every
/// text part (HTML rendered to text), links, attachments and the MIME shape. Built once per
/// check within `AntiSpamLimits`.
struct AnalysedMessage: Sendable {
    struct TextPart: Sendable {
        var isHTML: Bool
        var text: String
        var declaredCharset: String?
        var transferEncoding: TransferEncoding
        /// Unknown charset, or bytes not valid in the declared one.
        var charsetMismatch: Bool
        var imageCount: Int
        var nestingLimitHit = false
    }

    struct Attachment: Sendable {
        var filename: String
        var mimeType: String
    }

    var headers: [HeaderField]
    var subject: String
    var from: MailAddress
    var replyTo: MailAddress?
    var returnPath: MailAddress?
    var hasDate: Bool
    var date: Date?
    var hasMessageID: Bool
    var received: [String]
    var mailer: String
    var textParts: [TextPart] = []
    var urls: [MessageURL] = []
    var attachments: [Attachment] = []
    /// Every part's MIME type, in document order (containers too).
    var mimeTypes: [String] = []
    var problems: [MIMEProblem] = []
    var containsGTUBE = false

    static let gtube = Array("XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X".utf8)

    init(_ message: MIMEMessage, limits: AntiSpamLimits) {
        let root = message.root
        headers = root.headers
        func value(_ name: String) -> String? { root.header(name)?.value }
        subject = value("Subject") ?? ""
        from = MailAddress(header: value("From") ?? "")
        replyTo = value("Reply-To").map(MailAddress.init(header:))
        returnPath = value("Return-Path").map(MailAddress.init(header:))
        hasDate = root.header("Date") != nil
        date = value("Date").flatMap(MailDate.parse)
        hasMessageID = root.header("Message-ID") != nil
        received = root.headers(named: "Received").prefix(20).map(\.value)
        mailer = value("X-Mailer") ?? value("User-Agent") ?? ""
        problems = message.allProblems.prefix(50).map(\.problem)

        var textBudget = limits.maxTextParts
        for part in message.allParts.prefix(1000) {
            mimeTypes.append(part.mimeType)
            guard part.isLeaf else { continue }
            if part.isAttachment || !part.contentType.isText {
                if let name = part.filename { attachments.append(.init(filename: name, mimeType: part.mimeType)) }
                if !part.contentType.isText { continue }
                if part.disposition?.isAttachment == true { continue }
            }
            guard textBudget > 0 else { continue }
            textBudget -= 1
            let isHTML = part.contentType.subtype == "html"
            // Only the first maxPartBytes of the encoded body are decoded: a 50 MB part costs
            // what half a megabyte does.
            let raw = message.rawBody(of: part)
            let capped = raw.prefix(encodedBytes(for: limits.maxPartBytes, part.transferEncoding))
            var decoder = BodyDecoder(encoding: part.transferEncoding)
            var body: [UInt8] = []
            decoder.decode(capped, into: &body)
            decoder.finish(into: &body)
            if body.count > limits.maxPartBytes { body.removeSubrange(limits.maxPartBytes...) }
            if Self.contains(body, Self.gtube) { containsGTUBE = true }
            let decoded = TextDecoder.decode(body[...], charset: part.contentType.charset)
            var text = decoded.text
            var images = 0
            var tooDeep = false
            if isHTML {
                let html = HTMLTextExtractor.extract(Array(text.utf8), maxInputBytes: limits.maxPartBytes)
                text = html.text
                images = html.imageCount
                tooDeep = html.nestingLimitHit
                for link in html.links where urls.count < limits.maxURLs {
                    if let url = MessageURL(link.href, shownText: link.text) { urls.append(url) }
                }
            } else {
                urls += PlainTextLinks.find(in: text, limit: max(0, limits.maxURLs - urls.count))
            }
            textParts.append(.init(isHTML: isHTML, text: text, declaredCharset: part.contentType.charset,
                                   transferEncoding: part.transferEncoding, charsetMismatch: decoded.mismatched,
                                   imageCount: images, nestingLimitHit: tooDeep))
        }
        if !containsGTUBE, Self.contains(message.bytes.prefix(limits.maxPartBytes * 2), Self.gtube) { containsGTUBE = true }
    }

    /// How many encoded bytes decode to about `decoded` bytes.
    private func encodedBytes(for decoded: Int, _ encoding: TransferEncoding) -> Int {
        decoded * 2 + 4096
    }

    /// Whether `needle` occurs in `haystack` (the generic byte loop this replaced was 2.5 % of
    /// moatd's instructions per Milter message).
    static func contains(_ haystack: some Collection<UInt8>, _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return false }
        let found = haystack.withContiguousStorageIfAvailable { hay in
            needle.withUnsafeBufferPointer { ByteSearch.contains(hay, $0) }
        }
        return found ?? contains(Array(haystack), needle)
    }

    var plainParts: [TextPart] { textParts.filter { !$0.isHTML } }
    var htmlParts: [TextPart] { textParts.filter(\.isHTML) }
}
