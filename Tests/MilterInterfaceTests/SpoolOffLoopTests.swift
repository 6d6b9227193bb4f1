import Foundation
import MailD
import NIOCore
import NIOPosix
import Testing
@testable import MilterInterface

/// The Milter never waits for the disk on its event loop: the spool file of a large message is
/// created, written and removed on the thread pool, and reading from the MTA pauses while the
/// pool is behind. (Debug builds also stop, in every pool closure that touches a file, if it
/// runs on an event loop: `BlockingIO.offEventLoop`.)
@Suite("Milter spool off the event loop", .serialized)
struct SpoolOffLoopTests {
    typealias S = Support

    /// A one-thread pool kept busy until `release()`: every spool step queues behind it.
    final class HeldPool: Sendable {
        let pool = NIOThreadPool(numberOfThreads: 1)
        private let gate = DispatchSemaphore(value: 0)

        init() {
            pool.start()
            pool.submit { [gate] _ in gate.wait() }
        }

        func release() { gate.signal() }
        func stop() async { try? await pool.shutdownGracefully() }
    }

    /// What the check got: the message's size and whether it came as a spool file.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: (size: Int, spooled: Bool)?
        var value: (size: Int, spooled: Bool)? { lock.withLock { stored } }

        func record(_ message: MessageSource) {
            let seen: (Int, Bool)
            switch message {
            case .bytes(let bytes): seen = (bytes.count, false)
            case .file(let path): seen = ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1, true)
            }
            lock.withLock { stored = seen }
        }
    }

    /// Counts what the sender got out, from its own thread.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func add() { lock.withLock { count += 1 } }
    }

    func files(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    }

    /// Polls until the directory is empty: files are removed on the pool, a moment later.
    func becomesEmpty(_ directory: String) async -> Bool {
        for _ in 0..<100 {
            if files(directory).isEmpty { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// 64 MiB, far past the 64 KiB spool threshold, with the spool's thread pool held: while it
    /// is held no spool file exists (nothing was written on the event loop), the Milter has
    /// stopped reading (the MTA cannot send it all: past the collector's 4 MiB and the socket
    /// buffers), and the event loops still answer new connections. Released, the message is
    /// stored whole, checked from its spool file, answered, and the file is removed.
    @Test func largeMessageIsSpooledWithoutBlockingTheEventLoop() async throws {
        let held = HeldPool()
        let seen = Seen()
        var options = MilterInterface.Options()
        options.spoolPool = held.pool
        options.decide = { _, _, message, _ in
            seen.record(message)
            return Support.decision(.pass)
        }
        let server = try await LiveServer(profile: S.profile(spoolThreshold: 64 << 10), options: options)
        let client = try RawClient(port: server.port)
        #expect(await client.negotiate()?.command == UInt8(ascii: "O"))

        let line = Array("lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\r\n".utf8)
        let chunk = Array((0..<(65536 / line.count + 1)).flatMap { _ in line }.prefix(65536))
        let chunks = 1024
        let expectedSize = "Subject: big\r\n\r\n".utf8.count + chunks * chunk.count
        let sent = Counter()
        let sender = Task {
            try await blocking {
                client.send(S.packet("M", S.str0("<a@example.com>")))
                client.send(S.packet("R", S.str0("<b@example.org>")))
                client.send(S.packet("L", S.str0("Subject", " big")))
                let packet = S.packet("B", chunk)
                for _ in 0..<chunks {
                    client.send(packet)
                    sent.add()
                }
                client.send(S.packet("E"))
            }
        }

        try await Task.sleep(for: .seconds(2))
        #expect(files(server.spool).isEmpty, "a spool file was made while the pool was held: \(files(server.spool))")
        #expect(sent.value < chunks, "the Milter kept reading while its spool was behind (\(sent.value) chunks sent)")
        // Each of the group's loops (connections are spread over them in turn) still answers.
        for _ in 0..<System.coreCount {
            let other = try RawClient(port: server.port)
            #expect(await other.negotiate()?.command == UInt8(ascii: "O"))
        }

        held.release()
        try await sender.value
        #expect(sent.value == chunks)
        #expect(await client.read()?.command == UInt8(ascii: "a"))
        #expect(seen.value?.size == expectedSize)
        #expect(seen.value?.spooled == true)
        #expect(await becomesEmpty(server.spool), "spool file left: \(files(server.spool))")
        #expect(!server.log.lines.contains { $0.contains("Moat failure") }, "\(server.log.lines)")
        await server.stop()
        await held.stop()
    }

    /// ABORT (the MTA's RSET) of a message that went to a spool file: the file goes at once,
    /// not with the connection, and the connection carries on with the next message.
    @Test func abortRemovesTheSpoolFile() async throws {
        let server = try await LiveServer(profile: S.profile(spoolThreshold: 1000))
        let client = try RawClient(port: server.port)
        #expect(await client.negotiate()?.command == UInt8(ascii: "O"))
        client.send(S.packet("M", S.str0("<a@example.com>")))
        client.send(S.packet("B", [UInt8](repeating: 65, count: 5000)))
        var spooled = false
        for _ in 0..<100 where !spooled {
            spooled = files(server.spool).count == 1
            if !spooled { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(spooled, "no spool file: \(files(server.spool))")
        // The name the start-up cleanup looks for in the core's spool directory.
        #expect(files(server.spool).allSatisfy { $0.hasPrefix("milter-") }, "\(files(server.spool))")
        client.send(S.packet("A"))
        #expect(await becomesEmpty(server.spool), "spool file left after ABORT: \(files(server.spool))")
        client.message(body: "hello\r\n")
        #expect(await client.read()?.command == UInt8(ascii: "a"))
        #expect(await becomesEmpty(server.spool))
        await server.stop()
    }
}
