/// One header field as it appeared in the message.
public struct HeaderField: Hashable, Sendable {
    /// Field name as written (case preserved; compare with `lowercasedName`).
    public var name: String
    /// Bytes after the colon up to the end of the field, folding line breaks included.
    public var rawValue: [UInt8]
    /// Unfolded, RFC 2047-decoded value with surrounding whitespace trimmed.
    public var value: String
    /// Range of the whole field in the original message, including its final line break.
    public var range: Range<Int>

    public init(name: String, rawValue: [UInt8], value: String, range: Range<Int>) {
        self.name = name
        self.rawValue = rawValue
        self.value = value
        self.range = range
    }

    public var lowercasedName: String { name.lowercased() }

    /// Whether the name is `lowercasedKey` (which is lowercase ASCII) with ASCII letters in
    /// any case, as MTAs compare field names. Without lowercasing the name into a new String
    /// for every lookup (that was the most of `Part.header`'s cost per message), and without
    /// Unicode case mapping: a name spelled with U+212A KELVIN SIGN is not "DKIM-Signature".
    public func hasName(_ lowercasedKey: String) -> Bool {
        let name = name.utf8, key = lowercasedKey.utf8
        guard name.count == key.count else { return false }
        for (byte, wanted) in zip(name, key) where ASCII.lower(byte) != wanted { return false }
        return true
    }

    /// Raw value with folding line breaks removed; the input to structured parsers.
    public var unfoldedRawValue: [UInt8] { rawValue.filter { $0 != ASCII.cr && $0 != ASCII.lf } }
}
