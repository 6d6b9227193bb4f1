/// One SPF record (RFC 7208 §4.6, §12 ABNF), parsed whole before anything is evaluated: a
/// syntax error anywhere makes the record a `permerror`, even after a mechanism that matches.
public struct SPFRecord: Sendable, Hashable {
    public enum Mechanism: Sendable, Hashable {
        case all
        case include(SPFMacroString)
        case a(SPFMacroString?, ip4Prefix: Int, ip6Prefix: Int)
        case mx(SPFMacroString?, ip4Prefix: Int, ip6Prefix: Int)
        case ptr(SPFMacroString?)
        case ip4([UInt8], prefix: Int)
        case ip6([UInt8], prefix: Int)
        case exists(SPFMacroString)

        /// Mechanisms that query DNS count against the limit of 10 (§4.6.4).
        var queriesDNS: Bool {
            switch self {
            case .all, .ip4, .ip6: false
            default: true
            }
        }
    }

    public struct Directive: Sendable, Hashable {
        public var qualifier: SPFResult
        public var mechanism: Mechanism
        /// The term as written, for the result's explanation.
        public var text: String
    }

    public var directives: [Directive]
    public var redirect: SPFMacroString?
    public var explanation: SPFMacroString?

    /// Longest record text parsed (a TXT answer is bounded by the resolver already; this keeps
    /// the parser's own work bounded when it is handed anything else).
    public static let maxLength = 4096

    /// Whether a TXT record's text is an SPF record: `v=spf1` alone or followed by a space.
    public static func isSPF(_ text: [UInt8]) -> Bool {
        let version = Array("v=spf1".utf8)
        guard text.count >= version.count,
              zip(text, version).allSatisfy({ lowercased($0.0) == $0.1 }) else { return false }
        return text.count == version.count || text[version.count] == UInt8(ascii: " ")
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    public init(parsing text: String) throws(SPFSyntaxError) {
        guard text.utf8.count <= Self.maxLength else { throw SPFSyntaxError("record longer than \(Self.maxLength) bytes") }
        guard Self.isSPF(Array(text.utf8)) else { throw SPFSyntaxError("not an SPF record") }
        directives = []
        for term in text.dropFirst(6).split(separator: " ", omittingEmptySubsequences: true) {
            try parseTerm(term)
        }
    }

    private mutating func parseTerm(_ term: Substring) throws(SPFSyntaxError) {
        var body = term
        var qualifier: SPFResult?
        switch body.first {
        case "+": qualifier = .pass
        case "-": qualifier = .fail
        case "~": qualifier = .softfail
        case "?": qualifier = .neutral
        default: break
        }
        if qualifier != nil { body = body.dropFirst() }
        let nameEnd = body.firstIndex(where: { $0 == ":" || $0 == "/" || $0 == "=" }) ?? body.endIndex
        let name = body[..<nameEnd].lowercased()
        let rest = body[nameEnd...]
        if rest.first == "=" && qualifier == nil && Self.isModifierName(body[..<nameEnd]) {
            try parseModifier(name, rest.dropFirst())
            return
        }
        let mechanism = try Self.mechanism(name, rest)
        directives.append(Directive(qualifier: qualifier ?? .pass, mechanism: mechanism, text: String(term)))
    }

    private mutating func parseModifier(_ name: String, _ value: Substring) throws(SPFSyntaxError) {
        switch name {
        case "redirect":
            guard redirect == nil else { throw SPFSyntaxError("more than one redirect=") }
            redirect = try Self.domainSpec(value)
        case "exp":
            guard explanation == nil else { throw SPFSyntaxError("more than one exp=") }
            explanation = try Self.domainSpec(value)
        default:
            // Unknown modifiers are ignored, but must be well-formed (§6).
            _ = try SPFMacroString(parsing: value)
        }
    }

    /// name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
    static func isModifierName(_ name: Substring) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    private static func mechanism(_ name: String, _ rest: Substring) throws(SPFSyntaxError) -> Mechanism {
        switch name {
        case "all":
            guard rest.isEmpty else { throw SPFSyntaxError("`all` takes no argument") }
            return .all
        case "include", "exists":
            guard rest.first == ":" else { throw SPFSyntaxError("`\(name)` needs a domain") }
            let spec = try domainSpec(rest.dropFirst())
            return name == "include" ? .include(spec) : .exists(spec)
        case "a", "mx":
            // The CIDR suffix is read from the end: a domain-spec may itself hold `/` and `:`
            // (`a:foo:bar/baz.example.com`, suite case a-colon-domain).
            let (body, cidr) = splitCIDR(rest)
            var spec: SPFMacroString?
            if !body.isEmpty {
                guard body.first == ":", body.count > 1 else { throw SPFSyntaxError("bad `\(name)\(rest)`") }
                spec = try domainSpec(body.dropFirst())
            }
            let (v4, v6) = try dualCIDR(cidr)
            return name == "a" ? .a(spec, ip4Prefix: v4, ip6Prefix: v6) : .mx(spec, ip4Prefix: v4, ip6Prefix: v6)
        case "ptr":
            if rest.isEmpty { return .ptr(nil) }
            guard rest.first == ":" else { throw SPFSyntaxError("bad `ptr`") }
            return .ptr(try domainSpec(rest.dropFirst()))
        case "ip4", "ip6":
            guard rest.first == ":" else { throw SPFSyntaxError("`\(name)` needs a network") }
            let value = rest.dropFirst()
            let slash = value.firstIndex(of: "/") ?? value.endIndex
            let max = name == "ip4" ? 32 : 128
            let prefix = slash == value.endIndex ? max : try cidrLength(value[value.index(after: slash)...], max: max)
            let text = String(value[..<slash])
            guard let address = SPFAddress(text), name == "ip4" ? address.isIPv4 && isDottedQuad(text)
                                                                : !address.isIPv4 || text.contains(":") else {
                throw SPFSyntaxError("`\(value)` is not an \(name) network")
            }
            // An IPv4-mapped ip6 network stays a 16-byte network: it then matches no client.
            let bytes = name == "ip6" && address.isIPv4 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + address.bytes : address.bytes
            return name == "ip4" ? .ip4(bytes, prefix: prefix) : .ip6(bytes, prefix: prefix)
        default:
            throw SPFSyntaxError("unknown mechanism `\(name)`")
        }
    }

    /// dec-octet "." dec-octet "." dec-octet "." dec-octet, no leading zeros (inet_pton is
    /// stricter already; this rejects what it would take that the ABNF does not).
    /// On the bytes: the Character-wise split and tests were 32 K instructions a record.
    static func isDottedQuad(_ text: String) -> Bool {
        var parts = 0, digits = 0, value = 0, leadingZero = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0 else { return false }
                parts += 1
                digits = 0
                value = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 3 else { return false }
            if digits == 0 { leadingZero = byte == UInt8(ascii: "0") } else if leadingZero { return false }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            guard value <= 255 else { return false }
            digits += 1
        }
        return parts == 3 && digits > 0
    }

    /// The text before a trailing dual-cidr-length (`/N`, `//N`, `/N//M`) and that suffix.
    static func splitCIDR(_ text: Substring) -> (Substring, Substring) {
        func digitsSuffix(_ part: Substring) -> Substring.Index? {
            let digits = part.reversed().prefix(while: { $0.isASCII && $0.isNumber }).count
            guard digits > 0 else { return nil }
            let start = part.index(part.endIndex, offsetBy: -digits)
            guard start > part.startIndex, part[part.index(before: start)] == "/" else { return nil }
            return part.index(before: start)
        }
        var end = text.endIndex
        if let slash = digitsSuffix(text[..<end]) {
            end = slash
            if end > text.startIndex, text[text.index(before: end)] == "/" {
                // `//N`: an ip6 length; an ip4 length may stand before it.
                end = text.index(before: end)
                if let slash4 = digitsSuffix(text[..<end]) { end = slash4 }
            }
        }
        return (text[..<end], text[end...])
    }

    /// [ "/" ip4-cidr ] [ "//" ip6-cidr ]
    static func dualCIDR(_ text: Substring) throws(SPFSyntaxError) -> (Int, Int) {
        if text.isEmpty { return (32, 128) }
        guard text.first == "/" else { throw SPFSyntaxError("bad CIDR `\(text)`") }
        let body = text.dropFirst()
        if body.first == "/" { return (32, try cidrLength(body.dropFirst(), max: 128)) }
        if let slash = body.firstIndex(of: "/") {
            let rest = body[body.index(after: slash)...]
            guard rest.first == "/" else { throw SPFSyntaxError("bad CIDR `\(text)`") }
            return (try cidrLength(body[..<slash], max: 32), try cidrLength(rest.dropFirst(), max: 128))
        }
        return (try cidrLength(body, max: 32), 128)
    }

    /// "0" / %x31-39 0*2DIGIT, at most `max`.
    static func cidrLength(_ text: Substring, max: Int) throws(SPFSyntaxError) -> Int {
        guard !text.isEmpty, text.count <= 3, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              text.count == 1 || text.first != "0", let value = Int(text), value <= max else {
            throw SPFSyntaxError("bad CIDR length `\(text)`")
        }
        return value
    }

    /// domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] ) / macro-expand
    static func domainSpec(_ text: Substring) throws(SPFSyntaxError) -> SPFMacroString {
        let spec = try SPFMacroString(parsing: text)
        if spec.endsWithMacro { return spec }
        var name = text
        if name.last == "." { name = name.dropLast() }
        guard let dot = name.lastIndex(of: "."), isTopLabel(name[name.index(after: dot)...]) else {
            throw SPFSyntaxError("`\(text)` is not a domain-spec")
        }
        return spec
    }

    /// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
    static func isTopLabel(_ label: Substring) -> Bool {
        guard let first = label.first, let last = label.last, first != "-", last != "-",
              label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return false }
        return label.contains(where: \.isLetter) || label.contains("-")
    }
}
