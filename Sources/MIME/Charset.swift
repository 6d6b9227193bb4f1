/// Byte-to-text decoding for the charsets a gateway meets in headers and text parts.
/// Only UTF-8, US-ASCII, ISO-8859-1 and windows-1252 are decoded exactly; other
/// charsets are decoded lossily as UTF-8 so that nothing crashes and ASCII stays readable.
public enum Charset {
    /// Canonical name if `name` is a charset decoded exactly, else nil.
    public static func canonicalName(_ name: String) -> String? {
        switch normalize(name) {
        case "utf-8", "utf8": "utf-8"
        case "us-ascii", "ascii", "ansi_x3.4-1968", "ansi-x3.4-1968", "iso646-us", "us", "646": "us-ascii"
        case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "8859-1":
            "iso-8859-1"
        case "windows-1252", "cp1252", "x-cp1252", "win-1252": "windows-1252"
        default: nil
        }
    }

    /// Decodes `bytes` in `charset`. Returns nil if the charset is not supported
    /// (use `decodeLossy` to always get a string).
    public static func decode<C: Collection>(_ bytes: C, charset: String) -> String? where C.Element == UInt8 {
        guard let name = canonicalName(charset) else { return nil }
        // Called unspecialised from other modules: the bytes are decoded as a buffer, not
        // through the collection's witness tables byte by byte (that loop was a sixth of
        // moatd's instructions per Milter message on Latin-1 mail).
        if let text = bytes.withContiguousStorageIfAvailable({ decode($0, canonical: name) }) { return text }
        return Array(bytes).withUnsafeBufferPointer { decode($0, canonical: name) }
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, canonical name: String) -> String {
        switch name {
        case "utf-8": String(decoding: bytes, as: UTF8.self)
        // Mislabelled 8-bit data is common in "us-ascii" mail; Latin-1 keeps it lossless.
        case "us-ascii": utf8OrLatin1(bytes)
        case "iso-8859-1": latin1(bytes)
        default: windows1252(bytes)
        }
    }

    /// Like `decode`, but unknown charsets fall back to lossy UTF-8 and are reported.
    static func decodeLossy<C: Collection>(_ bytes: C, charset: String, problems: inout [MIMEProblem]) -> String
    where C.Element == UInt8 {
        if let s = decode(bytes, charset: charset) { return s }
        problems.record(.unsupportedCharset(normalize(charset)))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Raw 8-bit header text: UTF-8 if it is valid UTF-8 (RFC 6532), else Latin-1,
    /// which maps every byte to a character and so loses nothing.
    ///
    /// Inlinable (with its helpers) so that callers in other modules get a version
    /// specialised for their collection: the generic one walked every byte through witness
    /// tables, a visible share of the Milter's CPU per message.
    @inlinable
    public static func utf8OrLatin1<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if isASCII(bytes) || isValidUTF8(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return latin1(bytes)
    }

    /// Whether every byte is below 0x80: eight bytes a test where they are contiguous (a byte
    /// loop was 13 instructions a byte, run over every text part more than once).
    @inlinable
    public static func isASCII<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer -> Bool in
            let raw = UnsafeRawBufferPointer(buffer)
            var index = 0
            while index + 8 <= raw.count {
                if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
                index += 8
            }
            while index < raw.count {
                if raw[index] >= 0x80 { return false }
                index += 1
            }
            return true
        }
        return contiguous ?? !bytes.contains { $0 >= 0x80 }
    }

    /// Validation by the standard library (vectorised), not scalar by scalar.
    @inlinable
    static func isValidUTF8<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        String(validating: bytes, as: UTF8.self) != nil
    }

    /// Each byte is the scalar of the same value: written straight as its one or two UTF-8
    /// bytes into the new String's storage (appending scalars one by one cost a tenth of a
    /// scan's CPU on Latin-1 mail; appending to an Array first, still 55 K instructions per
    /// Milter message).
    @inlinable
    static func latin1<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var count = 0
            for b in bytes {
                if b < 0x80 {
                    out[count] = b
                    count += 1
                } else {
                    out[count] = 0xC0 | (b >> 6)
                    out[count + 1] = 0x80 | (b & 0x3F)
                    count += 2
                }
            }
            return count
        }
    }

    static func windows1252<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.count + bytes.count / 4)
        for b in bytes {
            if b < 0x80 {
                utf8.append(b)
            } else if b < 0xA0 {
                let scalar = cp1252High[Int(b) - 0x80]
                if scalar < 0x800 {
                    utf8.append(UInt8(0xC0 | (scalar >> 6)))
                    utf8.append(UInt8(0x80 | (scalar & 0x3F)))
                } else {
                    utf8.append(UInt8(0xE0 | (scalar >> 12)))
                    utf8.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                    utf8.append(UInt8(0x80 | (scalar & 0x3F)))
                }
            } else {
                utf8.append(0xC0 | (b >> 6))
                utf8.append(0x80 | (b & 0x3F))
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    // 0x80...0x9F of windows-1252; undefined positions map to the C1 control itself.
    private static let cp1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    static func normalize(_ name: String) -> String {
        // Charset names are ASCII: lowered byte by byte, without a Unicode case mapping per
        // character (this runs for every decoded part and encoded word).
        var name = name
        if let ascii = name.withUTF8({ bytes -> String? in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return nil }
            var lowered: [UInt8] = []
            lowered.reserveCapacity(bytes.count)
            for byte in bytes where byte != 0x20 && byte != 0x09 && byte != 0x22 {
                lowered.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
            }
            return String(decoding: lowered, as: UTF8.self)
        }) {
            return ascii
        }
        var out = ""
        for scalar in name.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\"" { continue }
            out.unicodeScalars.append(scalar.properties.lowercaseMapping.unicodeScalars.first ?? scalar)
        }
        return out
    }
}

/// ASCII helpers shared by the parsers; bytes, not Characters, so that 8-bit junk never
/// goes through grapheme breaking.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let dash: UInt8 = 0x2D
    static let question: UInt8 = 0x3F

    @inline(__always) static func isWSP(_ b: UInt8) -> Bool { b == space || b == tab }
    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == space || b == tab || b == cr || b == lf }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b + 0x20 : b }

    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    static func lowercased<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        Charset.utf8OrLatin1(bytes.map { lower($0) })
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var lo = bytes.startIndex
        var hi = bytes.endIndex
        while lo < hi && isWhitespace(bytes[lo]) { lo += 1 }
        while hi > lo && isWhitespace(bytes[hi - 1]) { hi -= 1 }
        return bytes[lo..<hi]
    }

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
}
