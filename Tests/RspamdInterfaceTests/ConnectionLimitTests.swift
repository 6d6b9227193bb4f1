import FilterTestSupport
import Foundation
import Testing
@testable import RspamdInterface

/// Past RspamdMaxConnections a new connection gets HTTP 503 and is closed; the connections
/// already open are served as before.
@Suite(.serialized) struct RspamdConnectionLimitTests {
    @Test func overTheCapIs503AndOpenOnesStillWork() async throws {
        // The held connections must outlive a loaded machine's pauses (the whole suite on two
        // cores stalled this test past the 30 s read time-out once).
        var limits = RspamdLimits()
        limits.readTimeout = .minutes(5)
        let server = try await RspamdServer.start(limits: limits, maxConnections: 2)
        let first = try HeldConnection(port: server.port)
        let second = try HeldConnection(port: server.port)
        try await Task.sleep(for: .milliseconds(300))
        let refused = String(decoding: try await Support.exchange(port: server.port, Array("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n".utf8)),
                             as: UTF8.self)
        #expect(refused.hasPrefix("HTTP/1.1 503 "), "\(refused)")
        let message = Support.spam
        let request = Array(("POST /checkv2 HTTP/1.1\r\nContent-Length: \(message.utf8.count)\r\nConnection: close\r\n\r\n" + message).utf8)
        let served = String(decoding: await first.exchange(request, halfClose: false), as: UTF8.self)
        #expect(served.hasPrefix("HTTP/1.1 200 OK\r\n") && served.contains("\"action\":\"reject\""), "\(served)")
        _ = second
        await server.stop()
    }
}
