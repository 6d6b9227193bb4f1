import CLibXML2

/// What an HTML part says once rendered: its visible text and its links.
public struct HTMLText: Sendable, Equatable {
    /// Visible text: script, style and head content left out, block elements as line breaks,
    /// inline elements joined (so `V<b></b>iagra` reads as one word, as a reader sees it).
    public var text: String
    /// Every `<a href>` with the text shown for it.
    public var links: [Link]
    /// `<img>` elements (an image-only message says little in words).
    public var imageCount: Int
    /// True when the input or the text was cut at a limit.
    public var truncated: Bool
    /// libxml2 stopped at its nesting limit (256 open elements): the rest of the document is
    /// not in `text`. Real mail programs never nest that deep; hiding words from filters does.
    public var nestingLimitHit = false

    public struct Link: Sendable, Equatable {
        public var href: String
        public var text: String
    }
}

/// HTML to text with libxml2's HTML parser (recovering, no network, no error output).
///
/// Bounded: at most `maxInputBytes` of HTML are parsed, at most `maxTextBytes` of text and
/// `maxLinks` links kept; the tree is walked without recursion, so deep nesting costs
/// only time proportional to the input.
public enum HTMLTextExtractor {
    public static let defaultMaxInputBytes = 1 << 20

    /// libxml2 must be initialised once before threads use it.
    private static let initialised: Bool = {
        xmlInitParser()
        return true
    }()

    private static let skipped: Set<String> = ["script", "style", "head", "noscript", "template", "object", "svg"]
    private static let blocks: Set<String> = [
        "p", "div", "br", "tr", "td", "th", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "hr", "section", "article", "header", "footer", "form", "center", "dd", "dt", "title",
    ]

    public static func extract(
        _ html: [UInt8], maxInputBytes: Int = defaultMaxInputBytes, maxTextBytes: Int = 256 * 1024, maxLinks: Int = 500
    ) -> HTMLText {
        _ = initialised
        var result = HTMLText(text: "", links: [], imageCount: 0, truncated: html.count > maxInputBytes)
        let input = html.prefix(maxInputBytes)
        guard !input.isEmpty else { return result }
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)
        guard let context = htmlNewParserCtxt() else { return result }
        defer { htmlFreeParserCtxt(context) }
        let doc: htmlDocPtr? = input.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                htmlCtxtReadMemory(context, $0, Int32(buffer.count), nil, "UTF-8", options)
            }
        }
        // The depth limit is the one error libxml2 stops at (xmlHaltParser); markup errors it
        // recovers from.
        if context.pointee.errNo == Int32(XML_ERR_INTERNAL_ERROR.rawValue) && context.pointee.disableSAX != 0 {
            result.nestingLimitHit = true
            result.truncated = true
        }
        guard let doc else { return result }
        defer { xmlFreeDoc(doc) }
        guard let root = xmlDocGetRootElement(doc) else { return result }

        var text: [UInt8] = []
        // Open anchors: href and where their text starts in `text`.
        var anchors: [(href: String, start: Int)] = []
        var node: xmlNodePtr? = root
        while let current = node {
            var descend = true
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                let name = elementName(current)
                if skipped.contains(name) {
                    descend = false
                } else if name == "a" {
                    anchors.append((attribute(current, "href") ?? "", text.count))
                } else if name == "img" {
                    result.imageCount += 1
                    if let alt = attribute(current, "alt") { append(Array(alt.utf8), to: &text, limit: maxTextBytes, truncated: &result.truncated) }
                }
                if blocks.contains(name) { append([0x0A], to: &text, limit: maxTextBytes, truncated: &result.truncated) }
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content {
                    append(UnsafeBufferPointer(start: content, count: Int(xmlStrlen(content))), to: &text, limit: maxTextBytes,
                           truncated: &result.truncated)
                }
            default:
                descend = false
            }
            if descend, let child = current.pointee.children {
                node = child
                continue
            }
            // Leave this node and every ancestor that has no next sibling.
            var leaving = current
            node = nil
            while true {
                if leaving.pointee.type == XML_ELEMENT_NODE {
                    let name = elementName(leaving)
                    if name == "a", let anchor = anchors.popLast(), result.links.count < maxLinks {
                        let shown = String(decoding: text[min(anchor.start, text.count)...], as: UTF8.self)
                        result.links.append(.init(href: anchor.href, text: shown.trimmingWhitespace()))
                    }
                    if blocks.contains(name) { append([0x0A], to: &text, limit: maxTextBytes, truncated: &result.truncated) }
                }
                if leaving == root { break }
                if let next = leaving.pointee.next { node = next; break }
                guard let parent = leaving.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE else { break }
                leaving = parent
            }
        }
        // libxml2 passes bytes it could not decode through; repairing them (U+FFFD, 3 bytes
        // each) may lengthen the text, so the limit is applied again on whole characters.
        var decoded = String(decoding: text, as: UTF8.self)
        if decoded.utf8.count > maxTextBytes {
            var kept = String.UnicodeScalarView()
            var size = 0
            for scalar in decoded.unicodeScalars {
                size += UTF8.width(scalar)
                if size > maxTextBytes { break }
                kept.append(scalar)
            }
            decoded = String(kept)
            result.truncated = true
        }
        result.text = decoded
        return result
    }

    /// libxml2's HTML parser lowercases element and attribute names as it reads them
    /// (htmlParseHTMLName), so they are compared as they are.
    private static func elementName(_ node: xmlNodePtr) -> String {
        guard let name = node.pointee.name else { return "" }
        return String(cString: name)
    }

    private static func attribute(_ node: xmlNodePtr, _ wanted: String) -> String? {
        var property = node.pointee.properties
        while let p = property {
            if let name = p.pointee.name, String(cString: name) == wanted {
                guard let child = p.pointee.children, let content = child.pointee.content else { return "" }
                return String(cString: content)
            }
            property = p.pointee.next
        }
        return nil
    }

    private static func append<C: Collection>(_ bytes: C, to text: inout [UInt8], limit: Int, truncated: inout Bool)
    where C.Element == UInt8 {
        let room = limit - text.count
        if room <= 0 { if !bytes.isEmpty { truncated = true }; return }
        if bytes.count > room { truncated = true; text += bytes.prefix(room) } else { text += bytes }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
