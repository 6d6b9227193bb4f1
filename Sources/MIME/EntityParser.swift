#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds the part tree from a complete message buffer.
///
/// Containers are split top-down: a multipart's delimiters are found first, then
/// each child is parsed inside its own range. A child therefore can never run past
/// its parent's delimiter, whatever its own (possibly broken) boundaries look like.
/// Work is linear per nesting level, and nesting is bounded by `MIMELimits.maxDepth`.
struct EntityParser {
    let bytes: [UInt8]
    let limits: MIMELimits
    private(set) var partCount = 0

    init(bytes: [UInt8], limits: MIMELimits) {
        self.bytes = bytes
        self.limits = limits
    }

    mutating func parseMessage() -> Part {
        parseEntity(range: 0..<bytes.count, path: .root, depth: 0, defaultType: .textPlain)
    }

    private var canAddPart: Bool { partCount < limits.effectiveMaxParts }

    private mutating func parseEntity(range: Range<Int>, path: PartPath, depth: Int, defaultType: ContentType) -> Part {
        partCount += 1
        let header = HeaderParser.parse(bytes, range: range, limits: limits, allowMboxFromLine: path.isRoot)
        var problems = header.problems
        var part = Part(
            path: path, headers: header.fields, contentType: defaultType,
            headerRange: range.lowerBound..<header.bodyStart, bodyRange: header.bodyStart..<range.upperBound)

        var rawBoundary: [UInt8]? = nil
        let typeFields = part.headers(named: "content-type")
        if typeFields.count > 1 { problems.record(.duplicateHeader("content-type")) }
        if let field = typeFields.first {
            if let (type, boundary) = ContentType.parse(field.unfoldedRawValue, problems: &problems) {
                part.contentType = type
                part.hasExplicitContentType = true
                rawBoundary = boundary
            } else {
                problems.record(.malformedContentType)
                part.contentType = .textPlain
            }
        }
        let encodingFields = part.headers(named: "content-transfer-encoding")
        if encodingFields.count > 1 { problems.record(.duplicateHeader("content-transfer-encoding")) }
        if let field = encodingFields.first {
            part.transferEncoding = TransferEncoding(headerValue: field.value)
            if case .other(let name) = part.transferEncoding { problems.record(.unknownTransferEncoding(name)) }
        }
        let dispositionFields = part.headers(named: "content-disposition")
        if dispositionFields.count > 1 { problems.record(.duplicateHeader("content-disposition")) }
        if let field = dispositionFields.first {
            part.disposition = ContentDisposition.parse(field.unfoldedRawValue, problems: &problems)
        }
        part.filename = nonEmpty(part.disposition?.filename) ?? nonEmpty(part.contentType.name)

        let type = part.contentType
        if type.isMultipart {
            let boundary = rawBoundary.map { trimTrailingWhitespace($0) } ?? []
            if boundary.isEmpty || boundary.count > limits.maxBoundaryLength {
                problems.record(.missingBoundaryParameter)
            } else if depth >= limits.effectiveMaxDepth {
                problems.record(.depthLimitExceeded)
            } else {
                splitMultipart(&part, boundary: boundary, depth: depth, problems: &problems)
            }
        } else if type.isEncapsulatedMessage {
            if !part.transferEncoding.isIdentity {
                problems.record(.encodedEmbeddedMessage)
            } else if depth >= limits.effectiveMaxDepth {
                problems.record(.depthLimitExceeded)
            } else if !canAddPart {
                problems.record(.partCountLimitExceeded)
            } else {
                part.kind = .message
                part.embeddedMessage = parseEntity(
                    range: part.bodyRange, path: path.appending(0), depth: depth + 1, defaultType: .textPlain)
            }
        }
        if part.kind == .leaf {
            finishLeaf(&part, problems: &problems)
        }
        part.problems = problems
        return part
    }

    private mutating func splitMultipart(_ part: inout Part, boundary: [UInt8], depth: Int, problems: inout [MIMEProblem]) {
        let body = part.bodyRange
        let scan = BoundaryScanner.scan(bytes, range: body, boundary: boundary)
        let openers = scan.delimiters.prefix { !$0.isClose }
        guard !openers.isEmpty else {
            // No part at all: keep the body as a leaf so its content is still scanned.
            problems.record(.boundaryNotFound)
            return
        }
        if !scan.sawClose { problems.record(.missingFinalBoundary) }
        if scan.delimiterAfterClose { problems.record(.dataAfterFinalBoundary) }
        part.kind = .multipart
        let childDefault: ContentType = part.contentType.subtype == "digest" ? .messageRFC822 : .textPlain
        let delimiters = scan.delimiters
        part.preambleRange = body.lowerBound..<delimiters[0].start
        var children: [Part] = []
        for (k, delimiter) in delimiters.enumerated() where !delimiter.isClose {
            guard canAddPart else {
                problems.record(.partCountLimitExceeded)
                break
            }
            let childStart = delimiter.end
            let childEnd = k + 1 < delimiters.count ? Swift.max(childStart, delimiters[k + 1].start) : body.upperBound
            let delimiterStart = Swift.max(delimiter.start, k == 0 ? body.lowerBound : children.last?.range.upperBound ?? body.lowerBound)
            var child = parseEntity(
                range: childStart..<childEnd, path: part.path.appending(children.count + 1),
                depth: depth + 1, defaultType: childDefault)
            child.delimiterRange = delimiterStart..<delimiter.end
            children.append(child)
        }
        if let close = delimiters.last, close.isClose {
            part.epilogueRange = close.end..<body.upperBound
        }
        part.children = children
    }

    private mutating func finishLeaf(_ part: inout Part, problems: inout [MIMEProblem]) {
        let body = bytes[part.bodyRange]
        if hasLongLine(body) { problems.record(.lineTooLong) }
        if limits.validateBodies {
            let (size, decodeProblems) = BodyDecoder.validate(body, encoding: part.transferEncoding)
            part.decodedSize = size
            for p in decodeProblems { problems.record(p) }
        }
        if part.transferEncoding == .uuencode && part.filename == nil {
            part.filename = uuFileName(body)
        }
        let type = part.contentType
        guard limits.detectInlineUUEncode, type.type == "text", type.subtype == "plain",
              part.transferEncoding.isIdentity else { return }
        let blocks = InlineUUScanner.scan(bytes, range: part.bodyRange, maxBlocks: limits.effectiveMaxParts)
        for block in blocks {
            guard canAddPart else {
                problems.record(.partCountLimitExceeded)
                break
            }
            partCount += 1
            var child = Part(
                path: part.path.appending(part.children.count + 1), kind: .uuencodedBlock,
                contentType: .applicationOctetStream, filename: block.fileName, transferEncoding: .uuencode,
                headerRange: block.range.lowerBound..<block.range.lowerBound, bodyRange: block.range)
            let (size, decodeProblems) = BodyDecoder.validate(bytes[block.range], encoding: .uuencode)
            if limits.validateBodies { child.decodedSize = size }
            child.problems = decodeProblems
            part.children.append(child)
        }
    }

    private func hasLongLine(_ body: ArraySlice<UInt8>) -> Bool {
        let limit = limits.maxLineLength
        guard body.count > limit else { return false }
        // Line by line with memchr: a byte loop here cost more per message than any other
        // single step of the parse (callgrind, Benchmarks/Callgrind/RESULTS.md).
        return body.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            var start = 0
            while start < buffer.count {
                let end = memchr(base + start, Int32(ASCII.lf), buffer.count - start)
                    .map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? buffer.count
                let length = end - start
                // The CR of a CRLF is not part of the line.
                if length > limit + 1 || (length == limit + 1 && base[end - 1] != ASCII.cr) { return true }
                start = end + 1
            }
            return false
        }
    }

    private func uuFileName(_ body: ArraySlice<UInt8>) -> String? {
        var p = body.startIndex
        while p < body.endIndex {
            let (contentEnd, next) = InlineUUScanner.line(bytes, p, body.endIndex)
            if let (_, name) = UUDecoder.parseBegin(bytes[p..<contentEnd]) { return name }
            p = next
        }
        return nil
    }

    private func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }

    private func trimTrailingWhitespace(_ b: [UInt8]) -> [UInt8] {
        var end = b.count
        while end > 0 && ASCII.isWhitespace(b[end - 1]) { end -= 1 }
        return Array(b[0..<end])
    }
}
