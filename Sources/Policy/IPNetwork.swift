#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as bytes. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) read as IPv4.
struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    var bytes: [UInt8]

    init?(_ text: String) {
        var s = text
        if s.hasPrefix("["), s.hasSuffix("]") { s = String(s.dropFirst().dropLast()) }
        if let percent = s.firstIndex(of: "%") { s = String(s[..<percent]) }  // zone id
        var v4 = in_addr()
        if s.withCString({ inet_pton(AF_INET, $0, &v4) }) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        guard s.withCString({ inet_pton(AF_INET6, $0, &v6) }) == 1 else { return nil }
        let raw = withUnsafeBytes(of: &v6) { Array($0) }
        if raw[0..<10].allSatisfy({ $0 == 0 }), raw[10] == 0xff, raw[11] == 0xff {
            bytes = Array(raw[12...])
        } else {
            bytes = raw
        }
    }

    var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2)
            .map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

/// An address or a CIDR network (`10.0.0.0/8`, `fe80::/10`); a plain address is a /32 or /128.
struct IPNetwork: Sendable, Hashable {
    var address: IPAddress
    var prefix: Int

    init?(_ text: String) {
        let pieces = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(pieces[0])) else { return nil }
        let bits = address.bytes.count * 8
        if pieces.count == 2 {
            guard let prefix = Int(pieces[1]), (0...bits).contains(prefix), pieces[1].allSatisfy(\.isNumber)
            else { return nil }
            self.prefix = prefix
        } else {
            self.prefix = bits
        }
        self.address = address
    }

    func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        var remaining = prefix
        for (a, b) in zip(address.bytes, other.bytes) {
            if remaining <= 0 { return true }
            let mask: UInt8 = remaining >= 8 ? 0xff : UInt8(0xff) << UInt8(8 - remaining)
            if a & mask != b & mask { return false }
            remaining -= 8
        }
        return true
    }
}
