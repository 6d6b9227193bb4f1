import FilterTestSupport
import Foundation
import Testing
@testable import ClamdInterface

/// A failure of Moat itself (a spool that cannot be written) is a clamd ERROR line, never OK.
@Suite(.serialized) struct ClamdLocalFailureTests {
    @Test func unwritableSpools() async throws {
        let large = Array(Support.message(subject: "big", body: String(repeating: "lorem ipsum dolor sit amet\r\n", count: 4000)).utf8)
        for broken in ["interface", "core"] {
            let server = broken == "interface"
                ? try await ClamdServer.start(extraConfig: "SpoolThreshold = 64kb", spoolDirectory: Support.brokenSpoolDirectory())
                : try await ClamdServer.start(extraConfig: "SpoolThreshold = 64kb", coreSpool: Support.brokenSpoolDirectory())
            let reply = String(decoding: try await Support.exchange(port: server.port, instream(large)), as: UTF8.self)
            #expect(reply.hasPrefix("stream: ") && reply.hasSuffix(" ERROR\0"), "\(broken): \(reply)")
            await server.stop()
        }
    }
}
