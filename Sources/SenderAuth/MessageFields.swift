// The header fields of a message as byte ranges, for DKIM and ARC: signatures cover the exact
// bytes of fields, so nothing is decoded or copied here. MIME's header parser decodes every
// value (RFC 2047) and stops storing at its size limit; a verifier needs neither.

/// One header field: where it is in the message.
struct RawField: Sendable {
    /// The whole field, its final line break included (when it has one).
    var range: Range<Int>
    /// The colon after the name.
    var colon: Int
    /// Lower-cased name, white space before the colon removed.
    var name: String
}

/// The header block split into fields, and where the body starts.
struct MessageFields: Sendable {
    let bytes: [UInt8]
    private(set) var fields: [RawField] = []
    /// The first byte of the body (after the empty line), or `bytes.count` without a body.
    private(set) var bodyStart: Int

    /// Fields past this many are not indexed (no signer signs a header of 10,000 fields);
    /// the header is still scanned to its end so the body is found.
    static let maxFields = 10_000

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.bodyStart = bytes.count
        var i = 0
        let end = bytes.count
        var current: (start: Int, colon: Int)?
        func close(_ upTo: Int) {
            guard let c = current else { return }
            current = nil
            guard fields.count < Self.maxFields else { return }
            var nameEnd = c.colon
            while nameEnd > c.start, bytes[nameEnd - 1] == 0x20 || bytes[nameEnd - 1] == 0x09 { nameEnd -= 1 }
            // Field names are ASCII; lowercased as bytes (RFC 6376 3.4.2), not by Unicode's
            // case mapping, and without a String made twice.
            var name = Array(bytes[c.start..<nameEnd])
            for index in name.indices where name[index] >= 0x41 && name[index] <= 0x5A { name[index] += 0x20 }
            fields.append(RawField(range: c.start..<upTo, colon: c.colon, name: String(decoding: name, as: UTF8.self)))
        }
        while i < end {
            let lineStart = i
            var lf = i
            while lf < end, bytes[lf] != 0x0A { lf += 1 }
            let next = lf < end ? lf + 1 : end
            let contentEnd = (lf > lineStart && lf < end && bytes[lf - 1] == 0x0D) ? lf - 1 : lf
            if contentEnd == lineStart {
                close(lineStart)
                bodyStart = next
                return
            }
            let first = bytes[lineStart]
            if first == 0x20 || first == 0x09 {
                i = next  // a continuation line (one before any field is ignored)
                continue
            }
            close(lineStart)
            var colon = lineStart
            while colon < contentEnd, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            if colon < contentEnd {
                current = (lineStart, colon)
                i = next
            } else {
                // Not a field: the header ends without its empty line and the body starts here.
                bodyStart = lineStart
                return
            }
        }
        close(end)
        bodyStart = end
    }

    /// The fields with this (lower-cased) name, top to bottom.
    func fields(named name: String) -> [RawField] { fields.filter { $0.name == name } }

    /// The bytes after the colon to the end of the field (terminating line break included).
    func value(of field: RawField) -> ArraySlice<UInt8> { bytes[(field.colon + 1)..<field.range.upperBound] }

    var body: ArraySlice<UInt8> { bytes[bodyStart...] }
}
