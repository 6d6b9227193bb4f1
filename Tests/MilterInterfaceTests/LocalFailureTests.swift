import Foundation
import SystemSetupSupport
import Testing
@testable import MilterInterface

/// A failure of Moat itself (the spool cannot be written: disk full, directory gone) is never a
/// reason to pass mail: the MTA gets a temporary failure whatever BlockUnchecked says.
@Suite("Local failures tempfail", .serialized)
struct MilterLocalFailureTests {
    typealias S = Support

    func brokenSpool() -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("moat-milter-notdir-\(UUID().uuidString)").path
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        return file + "/spool"
    }

    func exchange(_ server: LiveServer, body: String) async throws -> RawClient.Reply? {
        let client = try RawClient(port: server.port)
        #expect(await client.negotiate()?.command == UInt8(ascii: "O"))
        client.message(body: body)
        return await client.read()
    }

    func isTempfail(_ reply: RawClient.Reply?) -> Bool {
        guard let reply else { return false }
        if reply.command == Milter.Reply.tempfail { return true }
        return reply.command == Milter.Reply.replyCode && String(decoding: reply.data, as: UTF8.self).hasPrefix("4")
    }

    /// The milter's own spool (the message past SpoolThreshold) cannot be created.
    @Test(arguments: [false, true])
    func unwritableMilterSpoolTempfails(blockUnchecked: Bool) async throws {
        let server = try await LiveServer(profile: S.profile(blockUnchecked: blockUnchecked, spoolThreshold: 1024), spoolDirectory: brokenSpool(),
                                          coreSpool: try S.temporaryDirectory("moat-milter-core"))
        let reply = try await exchange(server, body: String(repeating: "lorem ipsum dolor sit amet\r\n", count: 400))
        #expect(isTempfail(reply), "\(String(describing: reply)) \(reply.map { String(decoding: $0.data, as: UTF8.self) } ?? "")")
        await server.stop()
    }

    /// A full disk: the spool file is created, then a write fails with ENOSPC.
    @Test(arguments: [false, true])
    func fullDiskTempfails(blockUnchecked: Bool) async throws {
        let disk = try FullDisk(kilobytes: 64)
        defer { disk.remove() }
        // Fill most of it, so the message cannot fit whichever spool writes first.
        FileManager.default.createFile(atPath: disk.path + "/filler", contents: Data(count: 48 << 10))
        let server = try await LiveServer(profile: S.profile(blockUnchecked: blockUnchecked, spoolThreshold: 1024),
                                          spoolDirectory: disk.path + "/spool", coreSpool: disk.path + "/spool")
        let reply = try await exchange(server, body: String(repeating: "lorem ipsum dolor sit amet\r\n", count: 2000))
        #expect(isTempfail(reply), "\(String(describing: reply)) \(reply.map { String(decoding: $0.data, as: UTF8.self) } ?? "")")
        #expect(server.log.lines.contains { $0.contains("No space left on device") }, "\(server.log.lines)")
        await server.stop()
    }

    /// The core's spool (parts of a large message decoded to files) cannot be created.
    @Test(arguments: [false, true])
    func unwritableCoreSpoolTempfails(blockUnchecked: Bool) async throws {
        let server = try await LiveServer(profile: S.profile(blockUnchecked: blockUnchecked, spoolThreshold: 1024), coreSpool: brokenSpool())
        let reply = try await exchange(server, body: String(repeating: "lorem ipsum dolor sit amet\r\n", count: 400))
        #expect(isTempfail(reply), "\(String(describing: reply)) \(reply.map { String(decoding: $0.data, as: UTF8.self) } ?? "")")
        await server.stop()
    }
}
