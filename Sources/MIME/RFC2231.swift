/// Parameter lists of structured headers (`; name=value; name*0*=utf-8''...`), with
/// RFC 2231 continuations, charsets and percent-encoding, and RFC 2047 encoded words
/// inside values (not allowed by the RFCs, but sent by many MUAs for filenames).
enum RFC2231 {
    struct RawParameter {
        var name: String  // lowercased
        var value: [UInt8]
    }

    /// Splits a parameter list into raw name/value pairs. Quoted strings may contain `;`.
    /// Only `\\` and `\"` are unescaped: Windows paths in quoted filenames keep their backslashes.
    static func split(_ b: ArraySlice<UInt8>) -> [RawParameter] {
        var out: [RawParameter] = []
        var p = b.startIndex
        let n = b.endIndex
        while p < n {
            while p < n && (ASCII.isWhitespace(b[p]) || b[p] == ASCII.semicolon) { p += 1 }
            guard p < n else { break }
            let nameStart = p
            while p < n && b[p] != ASCII.equals && b[p] != ASCII.semicolon { p += 1 }
            let name = ASCII.trimmed(b[nameStart..<p])
            guard p < n, b[p] == ASCII.equals else { continue }  // no value: ignored
            p += 1
            while p < n && ASCII.isWhitespace(b[p]) { p += 1 }
            var value: [UInt8] = []
            if p < n && b[p] == ASCII.quote {
                p += 1
                while p < n && b[p] != ASCII.quote {
                    if b[p] == ASCII.backslash && p + 1 < n && (b[p + 1] == ASCII.backslash || b[p + 1] == ASCII.quote) {
                        p += 1
                    }
                    value.append(b[p])
                    p += 1
                }
                if p < n { p += 1 }
                while p < n && b[p] != ASCII.semicolon { p += 1 }  // junk after the closing quote
            } else {
                let valueStart = p
                while p < n && b[p] != ASCII.semicolon { p += 1 }
                value = Array(ASCII.trimmed(b[valueStart..<p]))
            }
            if !name.isEmpty && out.count < 1000 {
                out.append(RawParameter(name: ASCII.lowercased(name), value: value))
            }
        }
        return out
    }

    /// Joins RFC 2231 sections and decodes every value. The first occurrence of a
    /// parameter wins; an RFC 2231 form wins over a plain form of the same name.
    static func assemble(_ raw: [RawParameter], problems: inout [MIMEProblem]) -> [MIMEParameters.Parameter] {
        struct Pieces {
            var plain: [UInt8]?
            var extended: [UInt8]?
            var sections: [(index: Int, extended: Bool, value: [UInt8])] = []
        }
        var order: [String] = []
        var pieces: [String: Pieces] = [:]
        for param in raw {
            var base = param.name
            var isExtended = false
            var section: Int? = nil
            if base.hasSuffix("*") {
                isExtended = true
                base.removeLast()
            }
            if let star = base.lastIndex(of: "*") {
                let digits = base[base.index(after: star)...]
                if !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits) {
                    section = n
                    base = String(base[..<star])
                }
            }
            if pieces[base] == nil {
                order.append(base)
                pieces[base] = Pieces()
            }
            if let section {
                if pieces[base]?.sections.contains(where: { $0.index == section }) == false {
                    pieces[base]?.sections.append((section, isExtended, param.value))
                }
            } else if isExtended {
                if pieces[base]?.extended == nil { pieces[base]?.extended = param.value }
            } else {
                if pieces[base]?.plain == nil { pieces[base]?.plain = param.value }
            }
        }
        var out: [MIMEParameters.Parameter] = []
        for name in order {
            guard let p = pieces[name] else { continue }
            let value: String
            if !p.sections.isEmpty {
                let sorted = p.sections.sorted { $0.index < $1.index }
                var bytes: [UInt8] = []
                var charset: String? = nil
                for (k, s) in sorted.enumerated() {
                    if s.extended {
                        var v = s.value[...]
                        if k == 0, let (cs, rest) = splitCharsetPrefix(v) {
                            charset = cs
                            v = rest
                        }
                        bytes += percentDecode(v)
                    } else {
                        bytes += s.value
                    }
                }
                value = decodeValue(bytes, charset: charset, problems: &problems)
            } else if let e = p.extended {
                if let (cs, rest) = splitCharsetPrefix(e[...]) {
                    value = decodeValue(percentDecode(rest), charset: cs, problems: &problems)
                } else {
                    value = decodeValue(percentDecode(e[...]), charset: nil, problems: &problems)
                }
            } else {
                value = decodeValue(p.plain ?? [], charset: nil, problems: &problems)
            }
            out.append(MIMEParameters.Parameter(name: name, value: value))
        }
        return out
    }

    /// `charset'language'rest`; nil if the two apostrophes are missing.
    private static func splitCharsetPrefix(_ v: ArraySlice<UInt8>) -> (String?, ArraySlice<UInt8>)? {
        guard let first = v.firstIndex(of: 0x27) else { return nil }
        guard let second = v[(first + 1)...].firstIndex(of: 0x27) else { return nil }
        let cs = Charset.utf8OrLatin1(v[v.startIndex..<first])
        return (cs.isEmpty ? nil : cs, v[(second + 1)...])
    }

    private static func percentDecode(_ v: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(v.count)
        var p = v.startIndex
        while p < v.endIndex {
            if v[p] == 0x25, p + 2 < v.endIndex, let hi = ASCII.hexValue(v[p + 1]), let lo = ASCII.hexValue(v[p + 2]) {
                out.append(hi << 4 | lo)
                p += 3
            } else {
                out.append(v[p])
                p += 1
            }
        }
        return out
    }

    private static func decodeValue(_ bytes: [UInt8], charset: String?, problems: inout [MIMEProblem]) -> String {
        if let charset { return Charset.decodeLossy(bytes, charset: charset, problems: &problems) }
        // Plain values may carry RFC 2047 words (e.g. name="=?UTF-8?B?...?=").
        return EncodedWord.decode(bytes, problems: &problems)
    }
}
