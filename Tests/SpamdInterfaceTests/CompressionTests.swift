import FilterTestSupport
import Foundation
import NIOCore
import Testing
@testable import SpamdInterface

/// `Compress: zlib` requests (spamc -z).
@Suite struct SpamdCompressionTests {
    /// zlib.compress(b"Subject: x\r\nFrom: a@example.com\r\n\r\nPlease buy now.\r\n")
    static let stream: [UInt8] = [120, 156, 11, 46, 77, 202, 74, 77, 46, 177, 82, 168, 224, 229, 114, 43, 202, 207, 181, 82, 72,
                                  116, 72, 173, 72, 204, 45, 200, 73, 213, 75, 206, 207, 229, 229, 226, 229, 10, 200, 73, 77, 44,
                                  78, 85, 72, 42, 173, 84, 200, 203, 47, 215, 227, 229, 2, 0, 192, 30, 16, 83]
    static let plain = "Subject: x\r\nFrom: a@example.com\r\n\r\nPlease buy now.\r\n"

    func run(_ bytes: [UInt8], header: String = "Compress: zlib", maxSize: Int = 1 << 20, pieces: Int = 7) -> ([UInt8], SpamdError?) {
        var decompression = SpamdDecompression(maxSize: maxSize)
        var out: [UInt8] = []
        var parts: [SpamdRequestPart] = [.head(SpamdRequestHead(method: .check, version: SpamdVersion(1, 5),
                                                                 headers: [(String(header.split(separator: ":")[0]), "zlib")]))]
        var index = 0
        while index < bytes.count {
            parts.append(.body(ByteBuffer(bytes: bytes[index..<min(index + pieces, bytes.count)])))
            index += pieces
        }
        parts.append(.end)
        for part in parts {
            switch decompression.process(part) {
            case .body(let piece): out += piece.readableBytesView
            case .error(let error): return (out, error)
            default: break
            }
        }
        return (out, nil)
    }

    @Test func inflatesPieceByPiece() {
        for size in [1, 7, 60] {
            let (out, error) = run(Self.stream, pieces: size)
            #expect(error == nil)
            #expect(String(decoding: out, as: UTF8.self) == Self.plain)
        }
    }

    @Test func truncatedCorruptTooBigAndTrailing() {
        #expect(run(Array(Self.stream.dropLast(5))).1?.line.contains("truncated zlib stream") == true)
        var corrupt = Self.stream
        corrupt[20] ^= 0xFF
        #expect(run(corrupt).1 != nil)
        #expect(run(Self.stream, maxSize: 10).1?.line.contains("Message too big") == true)
        #expect(run(Self.stream + [1, 2, 3], pieces: 100).1?.line.contains("after the end") == true)
    }

    @Test func uncompressedPassesThrough() {
        let (out, error) = run(Array("hello".utf8), header: "User: zlib")
        #expect(error == nil)
        #expect(out == Array("hello".utf8))
    }

    @Test func otherCompressionIsRefused() {
        var decoder = SpamdRequestDecoder()
        var buffer = ByteBuffer(string: "CHECK SPAMC/1.5\r\nCompress: gzip\r\nContent-length: 3\r\n\r\nabc")
        var parts: [SpamdRequestPart] = []
        while let part = decoder.step(&buffer, atEOF: true) { parts.append(part) }
        guard case .error(let error)? = parts.last else { Issue.record("\(parts)"); return }
        #expect(error.line.contains("Compression is not supported"))
    }
}

/// Debian's spamc is built without zlib (`spamc -z` exits 64), so the request is libspamc's
/// by hand: `Compress: zlib`, Content-length of the compressed body.
@Suite(.serialized) struct SpamdCompressedRequestTests {
    func request(_ method: String) -> [UInt8] {
        Array("\(method) SPAMC/1.5\r\nCompress: zlib\r\nContent-length: \(SpamdCompressionTests.stream.count)\r\n\r\n".utf8)
            + SpamdCompressionTests.stream
    }

    @Test func compressedCheckAndProcess() async throws {
        let server = try await SpamdServer.start()
        let check = String(decoding: try await Support.exchange(port: server.port, request("CHECK")), as: UTF8.self)
        #expect(check == "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 100.0 / 5.0\r\n\r\n", "the rule on the inflated body matched")
        let process = String(decoding: try await Support.exchange(port: server.port, request("PROCESS")), as: UTF8.self)
        #expect(process.hasSuffix("\r\n\r\nSubject: x\r\nFrom: a@example.com\r\nX-Spam-Flag: YES\r\n"
                                  + "X-Spam-Status: Yes, score=100.0 required=5.0 tests=MISSING_DATE,MISSING_MID,MOAT_RULE_2\r\n\r\nPlease buy now.\r\n"), "\(process)")
        let short = Array(SpamdCompressionTests.stream.dropLast(4))
        let truncated = Array("CHECK SPAMC/1.5\r\nCompress: zlib\r\nContent-length: \(short.count)\r\n\r\n".utf8) + short
        let bad = String(decoding: try await Support.exchange(port: server.port, truncated), as: UTF8.self)
        #expect(bad.hasPrefix("SPAMD/1.0 65 EX_DATAERR"), "\(bad)")
        await server.stop()
    }
}
