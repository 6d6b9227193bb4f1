import Testing
@testable import MIME

/// Builds message bytes from a Swift string literal. `\n` stays LF; use `crlf(_:)` for CRLF.
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
func crlf(_ s: String) -> [UInt8] { Array(s.replacingOccurrences("\n", "\r\n").utf8) }
func string(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }
func string(_ b: ArraySlice<UInt8>) -> String { String(decoding: b, as: UTF8.self) }

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var out = ""
        var rest = self[...]
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}

func parse(_ b: [UInt8], limits: MIMELimits = MIMELimits()) -> MIMEMessage {
    MessageParser.parse(b, limits: limits)
}

/// Deterministic PRNG (SplitMix64) so random splits and mutations are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Structural invariants every tree must satisfy; returns a list of violations.
/// These are what make byte-identical re-emission and part replacement sound.
func invariantViolations(_ message: MIMEMessage) -> [String] {
    var errors: [String] = []
    let n = message.bytes.count
    func check(_ part: Part, within outer: Range<Int>) {
        let p = part.path
        if part.headerRange.upperBound != part.bodyRange.lowerBound { errors.append("\(p): header/body not adjacent") }
        if part.range.lowerBound < outer.lowerBound || part.range.upperBound > outer.upperBound {
            errors.append("\(p): range \(part.range) outside \(outer)")
        }
        if part.range.upperBound > n { errors.append("\(p): range past end") }
        var cursor = part.bodyRange.lowerBound
        if let pre = part.preambleRange, pre.lowerBound != part.bodyRange.lowerBound { errors.append("\(p): preamble start") }
        for (i, child) in part.children.enumerated() {
            if child.path != p.appending(i + 1) { errors.append("\(p): child path \(child.path)") }
            let start = child.delimiterRange?.lowerBound ?? child.range.lowerBound
            if start < cursor { errors.append("\(child.path): overlaps previous sibling") }
            if let d = child.delimiterRange, d.upperBound != child.range.lowerBound { errors.append("\(child.path): delimiter not adjacent") }
            if part.kind == .multipart && child.delimiterRange == nil { errors.append("\(child.path): no delimiter") }
            check(child, within: part.bodyRange)
            cursor = child.range.upperBound
        }
        if let e = part.epilogueRange, e.upperBound != part.bodyRange.upperBound { errors.append("\(p): epilogue end") }
        if let m = part.embeddedMessage {
            if m.path != p.appending(0) { errors.append("\(p): embedded path") }
            if m.range != part.bodyRange { errors.append("\(p): embedded range \(m.range) != body \(part.bodyRange)") }
            check(m, within: part.bodyRange)
        }
        switch part.kind {
        case .multipart: if part.children.isEmpty { errors.append("\(p): multipart without children") }
        case .message: if part.embeddedMessage == nil { errors.append("\(p): message without embedded") }
        case .leaf: if part.children.contains(where: { $0.kind != .uuencodedBlock }) { errors.append("\(p): leaf with non-uu child") }
        case .uuencodedBlock: if !part.headerRange.isEmpty { errors.append("\(p): uu block with header") }
        }
    }
    check(message.root, within: 0..<n)
    if message.root.range != 0..<n { errors.append("root range \(message.root.range) != 0..<\(n)") }
    return errors
}

/// Re-assembles the message from the tree alone (header, preamble, delimiters, children,
/// epilogue): stronger than `emit` without replacements, which is a plain copy.
func reassemble(_ message: MIMEMessage) -> [UInt8] {
    let b = message.bytes
    func emit(_ part: Part) -> [UInt8] {
        var out = Array(b[part.headerRange])
        switch part.kind {
        case .multipart:
            if let pre = part.preambleRange { out += b[pre] }
            var cursor = part.preambleRange?.upperBound ?? part.bodyRange.lowerBound
            for child in part.children {
                if let d = child.delimiterRange {
                    out += b[cursor..<d.lowerBound]  // must be empty unless parts were dropped
                    out += b[d]
                }
                out += emit(child)
                cursor = child.range.upperBound
            }
            out += b[cursor..<part.bodyRange.upperBound]
        case .message:
            if let m = part.embeddedMessage { out += emit(m) }
        case .leaf, .uuencodedBlock:
            out += b[part.bodyRange]
        }
        return out
    }
    return emit(message.root)
}

/// Compact description of a tree for comparing parses.
func summary(_ part: Part) -> [String] {
    part.allParts.map { p in
        "\(p.path) \(p.kind) \(p.mimeType) \(p.filename ?? "-") h\(p.headerRange) b\(p.bodyRange) \(p.problems)"
    }
}
