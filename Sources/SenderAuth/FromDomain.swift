// RFC 7489 §6.6.1: the RFC5322.From domain, the one identifier DMARC authenticates.

enum FromDomain {
    enum Outcome: Equatable {
        case domain(String)
        /// No From field, several, no address, or addresses in different domains.
        case problem(String)
    }

    /// From the unfolded values of the message's From fields.
    static func extract(_ fromFields: [String]) -> Outcome {
        guard !fromFields.isEmpty else { return .problem("no From field") }
        guard fromFields.count == 1 else { return .problem("\(fromFields.count) From fields") }
        let domains = addressDomains(Array(fromFields[0].utf8.prefix(16 * 1024)))
        guard let first = domains.first else { return .problem("From has no address with a domain") }
        guard domains.allSatisfy({ $0 == first }) else { return .problem("From has addresses in several domains") }
        guard DomainName.isValid(first) else { return .problem("From domain is not a domain name") }
        return .domain(first)
    }

    /// The domains of the addresses of an address list: display names, quoted strings,
    /// comments and groups skipped; the angle address when there is one.
    static func addressDomains(_ value: [UInt8]) -> [String] {
        var domains: [String] = []
        var mailbox: [UInt8] = []  // the current mailbox without comments and quoted strings
        var angle: [UInt8]?
        var inAngle = false
        var i = 0
        func finish() {
            let spec = angle ?? mailbox
            if let at = spec.lastIndex(of: UInt8(ascii: "@")) {
                var domain = Array(spec[(at + 1)...])
                domain.removeAll { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
                let name = DomainName.normalized(String(decoding: domain, as: UTF8.self))
                if !name.isEmpty { domains.append(name) }
            }
            mailbox = []
            angle = nil
            inAngle = false
        }
        while i < value.count {
            let c = value[i]
            switch c {
            case UInt8(ascii: "\""):
                // A quoted string: skipped (a local part in quotes keeps its `@` out of the way).
                i += 1
                while i < value.count, value[i] != UInt8(ascii: "\"") {
                    if value[i] == UInt8(ascii: "\\") { i += 1 }
                    i += 1
                }
                if inAngle { angle?.append(UInt8(ascii: "x")) } else { mailbox.append(UInt8(ascii: "x")) }
            case UInt8(ascii: "("):
                var depth = 1
                i += 1
                while i < value.count, depth > 0 {
                    switch value[i] {
                    case UInt8(ascii: "\\"): i += 1
                    case UInt8(ascii: "("): depth += 1
                    case UInt8(ascii: ")"): depth -= 1
                    default: break
                    }
                    i += 1
                }
                continue
            case UInt8(ascii: "<"):
                inAngle = true
                angle = []
            case UInt8(ascii: ">"):
                inAngle = false
            case UInt8(ascii: ","), UInt8(ascii: ";"):
                finish()
            case UInt8(ascii: ":") where !inAngle:
                mailbox = []  // a group's display name (or a route in an obsolete angle address)
            default:
                if inAngle { angle?.append(c) } else if angle == nil { mailbox.append(c) }
            }
            i += 1
        }
        finish()
        return domains
    }
}
