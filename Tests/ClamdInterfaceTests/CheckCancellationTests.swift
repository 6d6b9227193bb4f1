import FilterTestSupport
import Foundation
import Synchronization
import Testing
@testable import ClamdInterface

/// A clamd client that hangs up while its stream is scanned: the scan is cancelled with the
/// connection instead of running on for nobody (each one holds an engine thread). The client
/// resets the connection: an orderly close cannot be told from a half-close, after which
/// clients (clamdscan, Exim) wait for their answer, so it is answered.
@Suite struct CheckCancellationTests {
    @Test func aScanUnderWayIsCancelledWhenTheClientHangsUp() async throws {
        let started = Mutex(0)
        let cancelled = Mutex(0)
        let server = try await ClamdServer.start(checkHook: {
            started.withLock { $0 += 1 }
            do { try await Task.sleep(for: .seconds(60)) } catch { cancelled.withLock { $0 += 1 } }
        })
        let port = server.port
        do {
            let client = try HeldConnection(port: port)
            let request = instream(Array("hello".utf8))
            _ = request.withUnsafeBytes { send(client.fd, $0.baseAddress!, request.count, Int32(MSG_NOSIGNAL)) }
            let deadline = ContinuousClock.now + .seconds(10)
            while started.withLock({ $0 }) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            var reset = linger(l_onoff: 1, l_linger: 0)
            setsockopt(client.fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
        }
        #expect(started.withLock { $0 } == 1, "the scan started")
        let deadline = ContinuousClock.now + .seconds(5)
        while cancelled.withLock({ $0 }) == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(cancelled.withLock { $0 } == 1, "and was cancelled when the client left")
        await server.stop()
    }
}
