import FilterTestSupport
import Foundation
import Testing
@testable import ClamdInterface

/// INSTREAM lengths past the limit (up to 0xFFFFFFFF): the clamd error, the connection
/// closed, and the next connection still served.
@Suite(.serialized) struct ClamdHostileNumberTests {
    @Test(arguments: [UInt32.max, UInt32(Int32.max), UInt32(Int32.max) + 1])
    func hugeChunkLengthIsRefusedAndTheServerLives(_ length: UInt32) async throws {
        let server = try await ClamdServer.start()
        let request = Array("zINSTREAM\0".utf8) + [0, 0, 0, 3] + Array("abc".utf8)
            + withUnsafeBytes(of: length.bigEndian) { Array($0) } + Array("more".utf8)
        let reply = String(decoding: try await Support.exchange(port: server.port, request, halfClose: false), as: UTF8.self)
        #expect(reply == "INSTREAM size limit exceeded. ERROR\0")
        let next = String(decoding: try await Support.exchange(port: server.port, instream(Array(Support.eicar.utf8))), as: UTF8.self)
        #expect(next == "stream: Moat.Test.EICAR FOUND\0" || next.hasSuffix(" FOUND\0"), "\(next)")
        await server.stop()
    }
}
