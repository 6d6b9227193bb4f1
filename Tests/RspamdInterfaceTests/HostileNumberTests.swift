import FilterTestSupport
import Foundation
import Testing
@testable import RspamdInterface

/// Client-supplied numbers (chunk sizes, Content-Length) that do not fit: a clear HTTP error,
/// and the interface (the whole process) still serves the next connection.
@Suite(.serialized) struct RspamdHostileNumberTests {
    static let chunkedHead = "POST /checkv2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"

    func status(_ reply: [UInt8]) -> String {
        String(decoding: reply, as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
    }

    @Test(arguments: [
        // After a first chunk: received + Int.max used to trap and abort the process.
        chunkedHead + "3\r\nabc\r\n7fffffffffffffff\r\n",
        chunkedHead + "7fffffffffffffff\r\n",
        chunkedHead + "3\r\nabc\r\nffffffffffffffffff\r\n",
        chunkedHead + "3\r\nabc\r\n" + String(repeating: "0", count: 40) + "1\r\n",
    ])
    func hugeChunkSizeIsRefusedAndTheServerLives(_ request: String) async throws {
        let server = try await RspamdServer.start()
        let reply = try await Support.exchange(port: server.port, Array(request.utf8), halfClose: false)
        #expect(status(reply) == "HTTP/1.1 413 Payload Too Large", "\(String(decoding: reply, as: UTF8.self))")
        try await expectStillServing(server)
        await server.stop()
    }

    @Test(arguments: [
        ("POST /checkv2 HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "413"),
        ("POST /checkv2 HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", "400"),
        ("POST /checkv2 HTTP/1.1\r\nContent-Length: -0\r\n\r\n", "400"),
        ("POST /checkv2 HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello", "400"),
        ("POST /checkv2 HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400"),
        (chunkedHead + "+3\r\nabc\r\n0\r\n\r\n", "400"),
        (chunkedHead + "-3\r\nabc\r\n0\r\n\r\n", "400"),
        ("CHECK RSPAMC/1.3\r\nContent-length: +5\r\n\r\nhello", "400"),
    ])
    func malformedLengthsAreRefused(_ request: String, _ code: String) async throws {
        let server = try await RspamdServer.start()
        let reply = try await Support.exchange(port: server.port, Array(request.utf8), halfClose: false)
        #expect(status(reply).contains(" \(code) "), "\(request.debugDescription) -> \(String(decoding: reply, as: UTF8.self))")
        try await expectStillServing(server)
        await server.stop()
    }

    func expectStillServing(_ server: RspamdServer) async throws {
        let message = Support.spam
        let request = "POST /checkv2 HTTP/1.1\r\nContent-Length: \(message.utf8.count)\r\nConnection: close\r\n\r\n" + message
        let reply = String(decoding: try await Support.exchange(port: server.port, Array(request.utf8), halfClose: false), as: UTF8.self)
        #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(reply)")
        #expect(reply.contains("\"action\":\"reject\""), "\(reply)")
    }
}
