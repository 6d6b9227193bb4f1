import FilterTestSupport
import Foundation
import SystemSetupSupport
import Testing
@testable import SpamdInterface

/// A failure of Moat itself (a spool that cannot be written) is an EX_TEMPFAIL error line (Exim
/// defers), whatever BlockUnchecked says; never a clean verdict.
@Suite(.serialized) struct SpamdLocalFailureTests {
    static var large: String {
        Support.message(subject: "big", body: String(repeating: "lorem ipsum dolor sit amet\r\n", count: 4000))
    }

    func request(_ message: String) -> [UInt8] {
        Array(("REPORT SPAMC/1.2\r\nUser: nobody\r\nContent-length: \(message.utf8.count)\r\n\r\n" + message).utf8)
    }

    @Test(arguments: ["No", "Yes"])
    func unwritableInterfaceSpool(_ blockUnchecked: String) async throws {
        let server = try await SpamdServer.start(extraConfig: "SpoolThreshold = 64kb\nSpamdBlockUnchecked = \(blockUnchecked)",
                                                 spoolDirectory: Support.brokenSpoolDirectory())
        let reply = String(decoding: try await Support.exchange(port: server.port, request(Self.large)), as: UTF8.self)
        #expect(reply.hasPrefix("SPAMD/1.0 75 "), "\(reply)")
        await server.stop()
    }

    @Test(arguments: ["No", "Yes"])
    func unwritableCoreSpool(_ blockUnchecked: String) async throws {
        let server = try await SpamdServer.start(extraConfig: "SpoolThreshold = 64kb\nSpamdBlockUnchecked = \(blockUnchecked)",
                                                 coreSpool: Support.brokenSpoolDirectory())
        let reply = String(decoding: try await Support.exchange(port: server.port, request(Self.large)), as: UTF8.self)
        #expect(reply.hasPrefix("SPAMD/1.0 75 "), "\(reply)")
        await server.stop()
    }

    /// A full disk (ENOSPC in the middle of a write) for the interface's and the core's spool.
    @Test func fullDisk() async throws {
        let disk = try FullDisk(kilobytes: 64)
        defer { disk.remove() }
        FileManager.default.createFile(atPath: disk.path + "/filler", contents: Data(count: 48 << 10))
        for (interfaceSpool, coreSpool) in [(disk.path + "/spamd", Support.temporaryPath("spool")),
                                            (Support.temporaryPath("spamd-spool"), disk.path + "/core")] {
            let server = try await SpamdServer.start(extraConfig: "SpoolThreshold = 64kb\nSpamdBlockUnchecked = No",
                                                     spoolDirectory: interfaceSpool, coreSpool: coreSpool)
            let reply = String(decoding: try await Support.exchange(port: server.port, request(Self.large)), as: UTF8.self)
            #expect(reply.hasPrefix("SPAMD/1.0 75 "), "\(interfaceSpool) \(coreSpool): \(reply)")
            await server.stop()
        }
    }
}
