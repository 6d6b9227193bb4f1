import FilterTestSupport
import Foundation
import Testing
@testable import RspamdInterface

/// A failure of Moat itself (a spool that cannot be written) is an error reply (HTTP 503; in
/// Exim's legacy form a line Exim cannot parse, so it defers), whatever BlockUnchecked says.
@Suite(.serialized) struct RspamdLocalFailureTests {
    static var large: String {
        Support.message(subject: "big", body: String(repeating: "lorem ipsum dolor sit amet\r\n", count: 4000))
    }

    static func requests(_ message: String) -> [(String, String)] {
        [("POST /checkv2 HTTP/1.1\r\nContent-Length: \(message.utf8.count)\r\nConnection: close\r\n\r\n" + message, "HTTP/1.1 503 "),
         ("CHECK RSPAMC/1.3\r\nContent-length: \(message.utf8.count)\r\nQueue-Id: 1abc\r\n\r\n" + message, "RSPAMD/1.3 ")]
    }

    @Test(arguments: ["No", "Yes"])
    func unwritableSpools(_ blockUnchecked: String) async throws {
        let config = "SpoolThreshold = 64kb\nRspamdBlockUnchecked = \(blockUnchecked)"
        for broken in ["interface", "core"] {
            let server = broken == "interface"
                ? try await RspamdServer.start(extraConfig: config, spoolDirectory: Support.brokenSpoolDirectory())
                : try await RspamdServer.start(extraConfig: config, coreSpool: Support.brokenSpoolDirectory())
            for (request, prefix) in Self.requests(Self.large) {
                let reply = String(decoding: try await Support.exchange(port: server.port, Array(request.utf8), halfClose: false), as: UTF8.self)
                #expect(reply.hasPrefix(prefix), "\(broken): \(reply)")
                // Exim's legacy parser needs `RSPAMD/x 0 EX_OK` then a Metric line: anything else defers.
                #expect(!reply.contains(" 0 EX_OK"), "\(broken): \(reply)")
                #expect(!reply.contains("\"action\""), "\(broken): \(reply)")
            }
            await server.stop()
        }
    }
}
