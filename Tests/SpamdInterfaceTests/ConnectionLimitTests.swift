import FilterTestSupport
import Foundation
import Testing
@testable import SpamdInterface

/// Past SpamdMaxConnections a new connection gets an EX_TEMPFAIL line and is closed; the
/// connections already open are served as before.
@Suite(.serialized) struct SpamdConnectionLimitTests {
    @Test func overTheCapIsATempfailLineAndOpenOnesStillWork() async throws {
        // The held connections must outlive a loaded machine's pauses (the whole suite on two
        // cores stalled this test past the 30 s read time-out once).
        var limits = SpamdLimits()
        limits.readTimeout = .minutes(5)
        let server = try await SpamdServer.start(limits: limits, maxConnections: 2)
        let first = try HeldConnection(port: server.port)
        let second = try HeldConnection(port: server.port)
        try await Task.sleep(for: .milliseconds(300))
        let refused = String(decoding: try await Support.exchange(port: server.port, Array("PING SPAMC/1.5\r\n\r\n".utf8)), as: UTF8.self)
        #expect(refused == "SPAMD/1.0 75 EX_TEMPFAIL too many connections, try again later\r\n")
        let message = Support.spam
        let request = Array(("CHECK SPAMC/1.5\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message).utf8)
        let served = String(decoding: await first.exchange(request), as: UTF8.self)
        #expect(served == "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 100.0 / 5.0\r\n\r\n", "\(served)")
        _ = second
        // One slot free again: a new connection is served.
        try await Task.sleep(for: .milliseconds(300))
        let next = String(decoding: try await Support.exchange(port: server.port, Array("PING SPAMC/1.5\r\n\r\n".utf8)), as: UTF8.self)
        #expect(next == "SPAMD/1.5 0 PONG\r\n", "\(next)")
        await server.stop()
    }
}
