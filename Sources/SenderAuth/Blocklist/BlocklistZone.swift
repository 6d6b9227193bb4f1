/// One DNS blocklist zone as configured (`[MailD] DnsBlocklists`, `UriBlocklists`), with the
/// meaning of its return codes:
///
///     zen.example(127.0.0.2:SBL, 127.0.0.4:XBL, 127.0.0.10:PBL), bl.example, multi.uribl.example(&2:black, &4:grey)
///
/// A code is an address the zone answers (`127.0.0.2`), or `&N`: a bit of the last octet,
/// for zones that add their lists' bits into one answer (URIBL, SURBL). Answers outside
/// 127.0.0.0/8, and 127.255.255.0/24 (what big lists answer to refused or misdirected
/// queries), are no listing (RFC 5782 §2.1). A listing with a code not configured is named
/// after the zone.
public struct BlocklistZone: Sendable, Hashable {
    public enum Code: Sendable, Hashable {
        case address([UInt8])
        case bit(UInt8)
    }

    public var zone: String
    public var meanings: [(code: Code, meaning: String)]

    public init(zone: String, meanings: [(code: Code, meaning: String)] = []) {
        self.zone = zone
        self.meanings = meanings
    }

    public static func == (lhs: BlocklistZone, rhs: BlocklistZone) -> Bool {
        lhs.zone == rhs.zone && lhs.meanings.map(\.code) == rhs.meanings.map(\.code)
            && lhs.meanings.map(\.meaning) == rhs.meanings.map(\.meaning)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(zone)
        hasher.combine(meanings.map(\.meaning))
    }

    /// The meanings of the codes a zone answered, or nil when no answer is a listing.
    public func listing(_ answers: [[UInt8]]) -> (codes: [String], meanings: [String])? {
        let listed = answers.filter { $0.count == 4 && $0[0] == 127 && !($0[1] == 255 && $0[2] == 255) }
        guard !listed.isEmpty else { return nil }
        var found: [String] = []
        for answer in listed {
            let named = meanings.filter { entry in
                switch entry.code {
                case .address(let bytes): bytes == answer
                case .bit(let mask): answer[3] & mask != 0
                }
            }.map(\.meaning)
            found += named.isEmpty ? [zone] : named
        }
        var unique: [String] = []
        for meaning in found where !unique.contains(meaning) { unique.append(meaning) }
        return (listed.map { $0.map(String.init).joined(separator: ".") }, unique)
    }

    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses the list syntax above (commas between zones outside parentheses).
    public static func parseList(_ text: String) throws(SyntaxError) -> [BlocklistZone] {
        var zones: [BlocklistZone] = []
        var depth = 0
        var current = ""
        for char in text + "," {
            if char == "(" { depth += 1 }
            if char == ")" { depth -= 1 }
            guard depth >= 0, depth <= 1 else { throw SyntaxError(description: "unbalanced parentheses in `\(text)`") }
            if char == "," && depth == 0 {
                let item = current.trimmingWhitespace()
                if !item.isEmpty { zones.append(try parseZone(item)) }
                current = ""
            } else {
                current.append(char)
            }
        }
        guard depth == 0 else { throw SyntaxError(description: "unbalanced parentheses in `\(text)`") }
        return zones
    }

    static func parseZone(_ item: String) throws(SyntaxError) -> BlocklistZone {
        let written = String(item.prefix { $0 != "(" })
        let name = written.trimmingWhitespace().lowercased().trimmingDots()
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, name.utf8.count <= 200, labels.allSatisfy({ label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }) else { throw SyntaxError(description: "`\(name)` is not a zone name") }
        var zone = BlocklistZone(zone: name)
        guard item.count > written.count else { return zone }
        guard item.hasSuffix(")") else { throw SyntaxError(description: "`\(item)`: text after the codes") }
        let inner = item.dropFirst(written.count + 1).dropLast()
        for entry in inner.split(separator: ",") {
            let parts = entry.trimmingWhitespace().split(separator: ":", maxSplits: 1).map { Substring($0.trimmingWhitespace()) }
            guard parts.count == 2, !parts[1].isEmpty else {
                throw SyntaxError(description: "`\(entry)` in \(name): expected code:meaning, e.g. 127.0.0.2:SBL")
            }
            let code: Code
            if parts[0].hasPrefix("&") {
                guard let bit = UInt8(parts[0].dropFirst()), bit != 0 else {
                    throw SyntaxError(description: "`\(parts[0])` in \(name): a bit mask is &1 to &255")
                }
                code = .bit(bit)
            } else {
                let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
                guard octets.count == 4, parts[0].split(separator: ".", omittingEmptySubsequences: false).count == 4 else {
                    throw SyntaxError(description: "`\(parts[0])` in \(name) is not an IPv4 address")
                }
                code = .address(octets)
            }
            zone.meanings.append((code, String(parts[1])))
        }
        return zone
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}

extension String {
    func trimmingDots() -> String {
        var text = Substring(self)
        while text.last == "." { text = text.dropLast() }
        return String(text)
    }
}
