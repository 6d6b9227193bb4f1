import Foundation
import MIME
#if canImport(Glibc)
import Glibc
#endif

/// Bytes of a text part in its declared charset to a String, so that Cyrillic (KOI8-R,
/// windows-1251), CJK (GB2312, Big5, Shift_JIS, ISO-2022-JP, EUC-KR) and the rest become
/// words the tokenizer can split. MIME decodes the common charsets exactly; the others go
/// through the C library's iconv, skipping bytes it cannot convert. Never fails: an unknown
/// charset falls back to UTF-8 if valid, else Latin-1.
enum TextDecoder {
    struct Decoded {
        var text: String
        /// The charset was unknown or the bytes were not valid in it.
        var mismatched: Bool
    }

    static func decode(_ bytes: ArraySlice<UInt8>, charset declared: String?) -> Decoded {
        let charset = (declared ?? "us-ascii").trimmingCharacters(in: .whitespaces).lowercased()
        switch Charset.canonicalName(charset) {
        case "utf-8":
            let valid = String(validatingUTF8Bytes: bytes)
            return Decoded(text: valid ?? Charset.utf8OrLatin1(bytes), mismatched: valid == nil)
        case "us-ascii":
            let ascii = Charset.isASCII(bytes)
            return Decoded(text: ascii ? String(decoding: bytes, as: UTF8.self) : Charset.utf8OrLatin1(bytes), mismatched: !ascii)
        case let name?:
            return Decoded(text: Charset.decode(bytes, charset: name) ?? Charset.utf8OrLatin1(bytes), mismatched: false)
        case nil:
            if let converted = iconvToUTF8(bytes, from: charset) { return converted }
            return Decoded(text: Charset.utf8OrLatin1(bytes), mismatched: true)
        }
    }

    /// nil when iconv does not know the charset.
    private static func iconvToUTF8(_ bytes: ArraySlice<UInt8>, from charset: String) -> Decoded? {
        #if canImport(Glibc)
        let cd = iconv_open("UTF-8", charset)
        if cd == iconv_t(bitPattern: -1) { return nil }
        defer { iconv_close(cd) }
        var input = Array(bytes)
        var output = [UInt8](repeating: 0, count: max(64, input.count * 4))
        var skipped = 0
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPtr: UnsafeMutablePointer<CChar>? = inBuffer.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
                var inLeft = inBuffer.count
                var outPtr: UnsafeMutablePointer<CChar>? = outBuffer.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
                var outLeft = outBuffer.count
                while inLeft > 0 {
                    if iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft) != -1 { break }
                    // Invalid or incomplete input: skip one byte and go on (bounded by the input).
                    if errno == E2BIG { break }
                    inPtr = inPtr.map { $0 + 1 }
                    inLeft -= 1
                    skipped += 1
                }
                return outBuffer.count - outLeft
            }
        }
        return Decoded(text: String(decoding: output[..<produced], as: UTF8.self), mismatched: skipped > 0)
        #else
        return nil
        #endif
    }
}

extension String {
    /// The bytes as a String if they are valid UTF-8 (the standard library's vectorised check).
    init?(validatingUTF8Bytes bytes: ArraySlice<UInt8>) {
        guard let valid = String(validating: bytes, as: UTF8.self) else { return nil }
        self = valid
    }
}
