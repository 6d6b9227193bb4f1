// Wire-format rdata (RFC 1035 §3.3, RFC 3596, RFC 6698) decoded into `DNSRecord`s. The
// resolver hands over each record's rdata as it arrived from the network (names written out,
// as libunbound keeps them in its cache), so everything here is bounds-checked: a short,
// long or malformed rdata is an error, never a read past the end.

public enum DNSWireError: Error, Equatable, Sendable {
    case truncated(DNSRecordType)
    case trailingBytes(DNSRecordType)
    case badName(String)
}

public enum DNSWire {
    /// RFC 1035 §2.3.4: a name is at most 255 octets on the wire.
    public static let maxNameLength = 255

    /// Decodes one record's rdata of `type`.
    public static func decode(_ type: DNSRecordType, rdata: [UInt8]) throws(DNSWireError) -> DNSRecord {
        var reader = Reader(rdata)
        let record: DNSRecord
        switch type {
        case .a:
            record = .a(try reader.bytes(4, type))
        case .aaaa:
            record = .aaaa(try reader.bytes(16, type))
        case .txt:
            // One or more <character-string>s: a length byte and that many bytes.
            var strings: [[UInt8]] = []
            repeat {
                let length = Int(try reader.byte(type))
                strings.append(try reader.bytes(length, type))
            } while !reader.atEnd
            record = .txt(strings)
        case .mx:
            let preference = try reader.uint16(type)
            record = .mx(preference: preference, exchange: try reader.name())
        case .ptr:
            record = .ptr(try reader.name())
        case .cname:
            record = .cname(try reader.name())
        case .tlsa:
            let usage = try reader.byte(type)
            let selector = try reader.byte(type)
            let matching = try reader.byte(type)
            record = .tlsa(usage: usage, selector: selector, matchingType: matching, data: reader.rest())
        }
        guard reader.atEnd else { throw .trailingBytes(type) }
        return record
    }

    /// The RR type code of each type asked for (IANA DNS parameters).
    public static func code(of type: DNSRecordType) -> UInt16 {
        switch type {
        case .a: 1
        case .cname: 5
        case .ptr: 12
        case .mx: 15
        case .txt: 16
        case .aaaa: 28
        case .tlsa: 52
        }
    }

    /// A bounded reader over one rdata.
    struct Reader {
        let data: [UInt8]
        var offset = 0

        init(_ data: [UInt8]) { self.data = data }

        var atEnd: Bool { offset == data.count }

        mutating func byte(_ type: DNSRecordType) throws(DNSWireError) -> UInt8 {
            guard offset < data.count else { throw .truncated(type) }
            defer { offset += 1 }
            return data[offset]
        }

        mutating func uint16(_ type: DNSRecordType) throws(DNSWireError) -> UInt16 {
            let high = try byte(type)
            return UInt16(high) << 8 | UInt16(try byte(type))
        }

        mutating func bytes(_ count: Int, _ type: DNSRecordType) throws(DNSWireError) -> [UInt8] {
            guard count >= 0, data.count - offset >= count else { throw .truncated(type) }
            defer { offset += count }
            return Array(data[offset..<offset + count])
        }

        mutating func rest() -> [UInt8] {
            defer { offset = data.count }
            return Array(data[offset...])
        }

        /// An uncompressed name (libunbound writes names out in the rdata it returns), in
        /// presentation form without the final dot; bytes outside letters, digits, `-` and `_`
        /// are written `\DDD` so that a name never carries a dot or a control byte that was
        /// not a label boundary. The root is "".
        mutating func name() throws(DNSWireError) -> String {
            var labels: [String] = []
            var wireLength = 0
            while true {
                guard offset < data.count else { throw .badName("name runs past the rdata") }
                let length = Int(data[offset])
                offset += 1
                wireLength += 1 + length
                guard wireLength <= DNSWire.maxNameLength else { throw .badName("name longer than 255 octets") }
                if length == 0 { break }
                // 0xC0: a compression pointer; 0x40/0x80: extended label types. Neither belongs here.
                guard length < 64 else { throw .badName("compressed or extended label") }
                guard data.count - offset >= length else { throw .badName("label runs past the rdata") }
                labels.append(Self.presentation(data[offset..<offset + length]))
                offset += length
            }
            return labels.joined(separator: ".")
        }

        static func presentation(_ label: ArraySlice<UInt8>) -> String {
            var text = ""
            for byte in label {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                     UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    text.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let digits = String(byte)
                    text += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                }
            }
            return text
        }
    }
}
