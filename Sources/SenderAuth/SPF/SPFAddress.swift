import Glibc

/// The connecting client's address as SPF uses it: the bytes to compare with networks, the
/// forms the `i`, `c` and `v` macros expand to, and the reverse name of the `ptr` lookups.
public struct SPFAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 16 bytes, network order. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is kept as
    /// its IPv4 address: that is the client SPF records speak of (RFC 7208 §5).
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    public init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let all = withUnsafeBytes(of: &v6) { Array($0) }
            if all[0..<10].allSatisfy({ $0 == 0 }) && all[10] == 0xff && all[11] == 0xff {
                bytes = Array(all[12...])
            } else {
                bytes = all
            }
        } else {
            return nil
        }
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Whether this address lies in `network`/`prefix` (the network of the same family).
    public func isIn(_ network: [UInt8], prefix: Int) -> Bool {
        guard network.count == bytes.count, prefix >= 0, prefix <= bytes.count * 8 else { return false }
        var left = prefix
        for index in 0..<bytes.count where left > 0 {
            let bits = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if bytes[index] & mask != network[index] & mask { return false }
            left -= bits
        }
        return true
    }

    /// `%{c}`: dotted quad, or RFC 5952 text for IPv6.
    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `%{i}`: dotted quad, or 32 dot-separated nibbles for IPv6 (RFC 7208 §7.3), in upper
    /// case as the openspf test suite expects of explanations (`v-macro-ip6`; the RFC's own
    /// example writes them in lower case; DNS lookups ignore the difference).
    public var macroForm: String {
        if isIPv4 { return description }
        return nibbles.joined(separator: ".").uppercased()
    }

    /// `%{v}`
    public var versionWord: String { isIPv4 ? "in-addr" : "ip6" }

    /// The name of the PTR lookup: reversed octets under in-addr.arpa, or reversed nibbles
    /// under ip6.arpa. DNS blocklists take the same reversed form under their zone.
    public var reverseName: String {
        isIPv4 ? reversedLabels + ".in-addr.arpa" : reversedLabels + ".ip6.arpa"
    }

    /// Octets (IPv4) or nibbles (IPv6), lowest first, joined by dots.
    public var reversedLabels: String {
        isIPv4 ? bytes.reversed().map(String.init).joined(separator: ".") : nibbles.reversed().joined(separator: ".")
    }

    private var nibbles: [String] {
        let digits = Array("0123456789abcdef")
        return bytes.flatMap { [String(digits[Int($0 >> 4)]), String(digits[Int($0 & 0xf)])] }
    }
}
