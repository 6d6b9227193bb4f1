import FilterTestSupport
import Foundation
import Testing
@testable import ClamdInterface

/// Past `[ClamD] MaxConnections` a new connection gets an ERROR line and is closed; the
/// connections already open are served as before.
@Suite(.serialized) struct ClamdConnectionLimitTests {
    @Test func overTheCapIsAnErrorLineAndOpenOnesStillWork() async throws {
        // The held connections must outlive a loaded machine's pauses: clamd's 5 s read time-out
        // would close them before their turn.
        let server = try await ClamdServer.start("ReadTimeout = 120s", maxConnections: 2)
        let first = try HeldConnection(port: server.port)
        let second = try HeldConnection(port: server.port)
        try await Task.sleep(for: .milliseconds(300))
        let refused = String(decoding: try await Support.exchange(port: server.port, Array("zPING\0".utf8)), as: UTF8.self)
        #expect(refused == "Too many connections, try again later. ERROR\n")
        let served = String(decoding: await first.exchange(instream(Array(Support.eicar.utf8))), as: UTF8.self)
        #expect(served == "stream: Moat.Test.EICAR FOUND\0", "\(served)")
        _ = second
        await server.stop()
    }
}
