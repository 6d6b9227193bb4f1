import FilterTestSupport
import Foundation
import Testing
@testable import SpamdInterface

/// Content-length values that are no plain bounded decimal: a spamd error line, and the
/// interface still serves the next connection.
@Suite(.serialized) struct SpamdHostileNumberTests {
    @Test(arguments: [
        ("CHECK SPAMC/1.5\r\nContent-length: 99999999999999999999\r\n\r\n", "SPAMD/1.0 65 Message too big"),
        ("CHECK SPAMC/1.5\r\nContent-length: 9223372036854775807\r\n\r\n", "SPAMD/1.0 65 Message too big"),
        ("CHECK SPAMC/1.5\r\nContent-length: +5\r\n\r\nhello", "SPAMD/1.0 76 Bad header line"),
        ("CHECK SPAMC/1.5\r\nContent-length: -0\r\n\r\n", "SPAMD/1.0 76 Bad header line"),
        ("CHECK SPAMC/1.5\r\nContent-length: 0x10\r\n\r\n", "SPAMD/1.0 76 Bad header line"),
        ("CHECK SPAMC/+1.5\r\nContent-length: 5\r\n\r\nhello", "SPAMD/1.0 76 Bad header line"),
    ])
    func badContentLengthIsAnErrorLine(_ request: String, _ expected: String) async throws {
        let server = try await SpamdServer.start()
        let reply = String(decoding: try await Support.exchange(port: server.port, Array(request.utf8)), as: UTF8.self)
        #expect(reply.hasPrefix(expected), "\(request.debugDescription) -> \(reply)")
        let message = Support.spam
        let next = "CHECK SPAMC/1.5\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message
        let served = String(decoding: try await Support.exchange(port: server.port, Array(next.utf8)), as: UTF8.self)
        #expect(served == "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 100.0 / 5.0\r\n\r\n")
        await server.stop()
    }
}
