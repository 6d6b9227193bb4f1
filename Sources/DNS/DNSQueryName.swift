// A name as callers build it (SPF macros expand local-parts into names) turned into the
// presentation form a resolver parses: labels split at dots, every byte outside letters,
// digits, `-` and `_` written `\DDD`, so that no byte of a label can act as zone-file syntax
// (a backslash, a quote, a space, a semicolon) or smuggle a label boundary.

public enum DNSQueryName {
    /// nil when no such name can exist: an empty label inside the name, a label over 63
    /// bytes, or more than 253 bytes in all (RFC 1035 §2.3.4).
    public static func presentation(_ name: String) -> String? {
        var bytes = Array(name.utf8)
        while bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        guard !bytes.isEmpty, bytes.count <= 253 else { return nil }
        var labels: [String] = []
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63 else { return nil }
            labels.append(DNSWire.Reader.presentation(label))
        }
        return labels.joined(separator: ".") + "."
    }
}
