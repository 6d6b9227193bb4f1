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
/// The parser's events are read as they come (SAX): no document tree is built, walked and
/// freed per HTML part (the tree was a third of the extraction's cost, callgrind).
///
/// Bounded: at most `maxInputBytes` of HTML are parsed, at most `maxTextBytes` of text and
/// `maxLinks` links kept, and elements nest at most 256 deep (libxml2's own limit for
/// documents, which the event stream does not apply: the parser is stopped there).
public enum HTMLTextExtractor {
    public static let defaultMaxInputBytes = 1 << 20
    /// libxml2's `xmlParserMaxDepth`: deeper mail is written to hide words from filters.
    static let maxDepth = 256

    /// libxml2 must be initialised once before threads use it.
    private static let initialised: Bool = {
        xmlInitParser()
        return true
    }()

    public static func extract(
        _ html: [UInt8], maxInputBytes: Int = defaultMaxInputBytes, maxTextBytes: Int = 256 * 1024, maxLinks: Int = 500
    ) -> HTMLText {
        _ = initialised
        let input = html.prefix(maxInputBytes)
        var reader = HTMLEventReader(maxTextBytes: maxTextBytes, maxLinks: maxLinks)
        reader.result.truncated = html.count > maxInputBytes
        guard !input.isEmpty, let context = htmlNewParserCtxt() else { return reader.finish() }
        defer { htmlFreeParserCtxt(context) }
        HTMLEventReader.install(on: context)
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
                            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)
        // The reader is a struct reached through a pointer for the whole parse: one access,
        // where a class's properties would each be checked for exclusivity at run time.
        let document: htmlDocPtr? = withUnsafeMutablePointer(to: &reader) { pointer in
            context.pointee._private = UnsafeMutableRawPointer(pointer)
            defer { context.pointee._private = nil }
            return input.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    htmlCtxtReadMemory(context, $0, Int32(buffer.count), nil, "UTF-8", options)
                }
            }
        }
        // No startDocument handler, so no document; freed should one ever come.
        if let document { xmlFreeDoc(document) }
        return reader.finish()
    }
}

/// The state of one extraction, fed by libxml2's SAX callbacks (reached through the parser
/// context's `_private` while `extract` holds it).
private struct HTMLEventReader {
    enum Kind { case skipped, anchor, image, block, other }

    private static let skipped = ["script", "style", "head", "noscript", "template", "object", "svg"]
    private static let blocks = [
        "p", "div", "br", "tr", "td", "th", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
        "blockquote", "pre", "hr", "section", "article", "header", "footer", "form", "center", "dd", "dt", "title",
    ]
    /// Element names (libxml2 lowercases them) by their bytes, packed, up to 16 bytes.
    private static let kinds: [NameKey: Kind] = {
        var kinds: [NameKey: Kind] = [NameKey(Array("a".utf8)): .anchor, NameKey(Array("img".utf8)): .image]
        for name in skipped { kinds[NameKey(Array(name.utf8))] = .skipped }
        for name in blocks { kinds[NameKey(Array(name.utf8))] = .block }
        return kinds
    }()

    struct NameKey: Hashable {
        var low: UInt64 = 0, high: UInt64 = 0
        /// nil for a name longer than any of those looked for.
        init?(_ name: UnsafePointer<xmlChar>) {
            var length = 0
            while name[length] != 0 {
                length += 1
                if length > 16 { return nil }
            }
            self.init(UnsafeBufferPointer(start: name, count: length))
        }
        init(_ bytes: some Collection<UInt8>) {
            for (i, byte) in bytes.enumerated() {
                if i < 8 { low |= UInt64(byte) << (8 * UInt64(i)) } else { high |= UInt64(byte) << (8 * UInt64(i - 8)) }
            }
        }
    }

    let maxTextBytes: Int
    let maxLinks: Int
    var result = HTMLText(text: "", links: [], imageCount: 0, truncated: false)
    private var text: [UInt8] = []
    /// Open elements, innermost last; a skipped element and everything in it count as skipped.
    private var open: [Kind] = []
    private var skippedDepth = 0
    /// Open anchors: href and where their text starts in `text`.
    private var anchors: [(href: String, start: Int)] = []
    private var stopped = false

    init(maxTextBytes: Int, maxLinks: Int) {
        self.maxTextBytes = maxTextBytes
        self.maxLinks = maxLinks
    }

    static func install(on context: htmlParserCtxtPtr) {
        guard let sax = context.pointee.sax else { return }
        // Only these events: no tree, no entity or DTD handling, no error output.
        sax.pointee = htmlSAXHandler()
        sax.pointee.initialized = 1
        sax.pointee.startElement = { context, name, attributes in
            guard let reader = HTMLEventReader.reader(context), let name else { return }
            reader.pointee.start(name, attributes, context: context)
        }
        sax.pointee.endElement = { context, _ in HTMLEventReader.reader(context)?.pointee.end() }
        sax.pointee.characters = { context, bytes, count in HTMLEventReader.reader(context)?.pointee.characters(bytes, count) }
        sax.pointee.cdataBlock = { context, bytes, count in HTMLEventReader.reader(context)?.pointee.characters(bytes, count) }
    }

    private static func reader(_ context: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<HTMLEventReader>? {
        // userData is the parser context itself (htmlNewParserCtxt; htmlCtxtReset keeps it).
        guard let context, let reader = context.assumingMemoryBound(to: xmlParserCtxt.self).pointee._private else { return nil }
        return reader.assumingMemoryBound(to: HTMLEventReader.self)
    }

    private mutating func start(_ name: UnsafePointer<xmlChar>, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?,
                       context: UnsafeMutableRawPointer?) {
        guard !stopped else { return }
        if open.count > HTMLTextExtractor.maxDepth {
            stopped = true
            result.nestingLimitHit = true
            result.truncated = true
            xmlStopParser(context?.assumingMemoryBound(to: xmlParserCtxt.self))
            return
        }
        if skippedDepth > 0 {
            skippedDepth += 1
            open.append(.skipped)
            return
        }
        let kind = NameKey(name).flatMap { Self.kinds[$0] } ?? .other
        open.append(kind)
        switch kind {
        case .skipped:
            skippedDepth = 1
        case .anchor:
            anchors.append((Self.attribute("href", in: attributes) ?? "", text.count))
        case .image:
            result.imageCount += 1
            if let alt = Self.attribute("alt", in: attributes) { append(alt.utf8) }
        case .block:
            append(CollectionOfOne(0x0A))
        case .other:
            break
        }
    }

    private mutating func end() {
        guard !stopped, let kind = open.popLast() else { return }
        if skippedDepth > 0 {
            skippedDepth -= 1
            return
        }
        leave(kind)
    }

    private mutating func leave(_ kind: Kind) {
        switch kind {
        case .anchor:
            if let anchor = anchors.popLast(), result.links.count < maxLinks {
                let shown = String(decoding: text[min(anchor.start, text.count)...], as: UTF8.self)
                result.links.append(.init(href: anchor.href, text: shown.trimmingWhitespace()))
            }
        case .block:
            append(CollectionOfOne(0x0A))
        case .skipped, .image, .other:
            break
        }
    }

    private mutating func characters(_ bytes: UnsafePointer<xmlChar>?, _ count: Int32) {
        guard !stopped, skippedDepth == 0, let bytes, count > 0 else { return }
        append(UnsafeBufferPointer(start: bytes, count: Int(count)))
    }

    /// The value of the first attribute so named; "" when it has none (`<a href>`).
    private static func attribute(_ wanted: StaticString, in attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) -> String? {
        guard var pair = attributes else { return nil }
        while let name = pair[0] {
            if isNamed(name, wanted) {
                return pair[1].map { String(cString: $0) } ?? ""
            }
            pair += 2
        }
        return nil
    }

    private static func isNamed(_ name: UnsafePointer<xmlChar>, _ wanted: StaticString) -> Bool {
        let count = wanted.utf8CodeUnitCount
        for i in 0..<count where name[i] != wanted.utf8Start[i] { return false }  // stops at name's NUL
        return name[count] == 0
    }

    private mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let room = maxTextBytes - text.count
        if room <= 0 { if !bytes.isEmpty { result.truncated = true }; return }
        if bytes.count > room { result.truncated = true; text += bytes.prefix(room) } else { text += bytes }
    }

    /// The result: elements still open when the parser stopped are left as if closed, so an
    /// anchor cut off by the nesting limit still counts as a link.
    mutating func finish() -> HTMLText {
        while let kind = open.popLast() {
            if skippedDepth > 0 { skippedDepth -= 1 } else { leave(kind) }
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
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
