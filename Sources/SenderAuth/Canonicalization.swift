import Crypto

// RFC 6376 §3.4: the two canonicalizations of header fields and of the body. Bare LF line ends
// (a message stored with Unix line ends) count as CRLF, as every deployed verifier does.

public enum Canonicalization: String, Sendable, Hashable {
    case simple, relaxed

    /// `c=` as in a signature: `header/body`, the body part defaulting to simple (RFC 6376 §3.5).
    static func pair(_ text: String?) -> (header: Canonicalization, body: Canonicalization)? {
        guard let text else { return (.simple, .simple) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let header = Canonicalization(rawValue: String(parts[0]).lowercased()) else { return nil }
        guard parts.count == 2 else { return (header, .simple) }
        guard let body = Canonicalization(rawValue: String(parts[1]).lowercased()) else { return nil }
        return (header, body)
    }
}

enum HeaderCanonicalizer {
    /// The canonical form of one whole field (`name: value` with its line break), appended to
    /// `out`. `omitting` removes a byte range of the field (the `b=` value being verified);
    /// `terminate` false leaves the final CRLF off (the signature field itself).
    static func append(_ field: ArraySlice<UInt8>, colon: Int, _ canon: Canonicalization,
                       omitting: Range<Int>? = nil, terminate: Bool = true, to out: inout [UInt8]) {
        // The field's own final line break is not content.
        var end = field.endIndex
        if end > field.startIndex, field[end - 1] == 0x0A { end -= 1 }
        if end > field.startIndex, field[end - 1] == 0x0D { end -= 1 }
        func skipped(_ i: Int) -> Bool { omitting?.contains(i) ?? false }
        switch canon {
        case .simple:
            var i = field.startIndex
            while i < end {
                if skipped(i) { i += 1; continue }
                let c = field[i]
                if c == 0x0A {
                    out.append(0x0D)  // a CR before it was skipped below: CRLF and bare LF alike
                    out.append(0x0A)
                } else if c == 0x0D, i + 1 < end, field[i + 1] == 0x0A {
                    // emitted with the LF
                } else {
                    out.append(c)
                }
                i += 1
            }
        case .relaxed:
            var nameEnd = colon
            while nameEnd > field.startIndex, field[nameEnd - 1] == 0x20 || field[nameEnd - 1] == 0x09 { nameEnd -= 1 }
            for c in field[field.startIndex..<nameEnd] { out.append(c >= 0x41 && c <= 0x5A ? c | 0x20 : c) }
            out.append(UInt8(ascii: ":"))
            var pendingSpace = false
            var started = false
            var i = colon + 1
            while i < end {
                defer { i += 1 }
                if skipped(i) { continue }
                let c = field[i]
                if c == 0x0D || c == 0x0A { continue }  // unfold
                if c == 0x20 || c == 0x09 { pendingSpace = started; continue }
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(c)
                started = true
            }
        }
        if terminate { out.append(0x0D); out.append(0x0A) }
    }
}

/// The body canonicalized as it streams by, hashed with SHA-256, cut at `l=`: the message body
/// is never copied. Feed it in pieces of any size with `update`, then `finish`.
struct BodyHasher {
    private let canon: Canonicalization
    private let limit: Int?
    private var hasher = SHA256()
    private var buffer: [UInt8] = []
    /// Canonical bytes produced so far (before the limit cuts).
    private(set) var canonicalLength = 0
    private var hashed = 0
    private var pendingEmptyLines = 0
    private var lineHasContent = false
    private var pendingCR = false
    private var pendingSpace = false
    private var emittedAnything = false

    init(_ canon: Canonicalization, limit: Int?) {
        self.canon = canon
        self.limit = limit
        buffer.reserveCapacity(8192)
    }

    mutating func update(_ bytes: ArraySlice<UInt8>) {
        for c in bytes { consume(c) }
        if buffer.count >= 4096 { flush() }
    }

    /// The SHA-256 of the canonical body (cut at the limit) and the canonical body's full length.
    mutating func finish() -> (digest: [UInt8], canonicalLength: Int) {
        if pendingCR { pendingCR = false; content(0x0D) }
        if lineHasContent { emit(0x0D); emit(0x0A) }
        if canon == .simple, !emittedAnything { emit(0x0D); emit(0x0A) }
        flush()
        return (Array(hasher.finalize()), canonicalLength)
    }

    private mutating func consume(_ c: UInt8) {
        if pendingCR {
            pendingCR = false
            if c == 0x0A { endLine(); return }
            content(0x0D)
        }
        switch c {
        case 0x0D: pendingCR = true
        case 0x0A: endLine()
        default: content(c)
        }
    }

    private mutating func content(_ c: UInt8) {
        if canon == .relaxed, c == 0x20 || c == 0x09 {
            pendingSpace = true
            return
        }
        if !lineHasContent {
            while pendingEmptyLines > 0 { emit(0x0D); emit(0x0A); pendingEmptyLines -= 1 }
            lineHasContent = true
        }
        if pendingSpace { emit(0x20); pendingSpace = false }
        emit(c)
    }

    private mutating func endLine() {
        pendingSpace = false  // relaxed: white space at the end of a line goes
        if lineHasContent {
            emit(0x0D); emit(0x0A)
            lineHasContent = false
        } else {
            pendingEmptyLines += 1  // empty lines at the end of the body go
        }
    }

    private mutating func emit(_ c: UInt8) {
        emittedAnything = true
        canonicalLength += 1
        if let limit, hashed >= limit { return }
        hashed += 1
        buffer.append(c)
    }

    private mutating func flush() {
        guard !buffer.isEmpty else { return }
        hasher.update(data: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
