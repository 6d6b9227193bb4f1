import Foundation
import NIOCore
import Synchronization
import Testing
@testable import Gate

/// What a client can do to the Gate as a whole: fill its spool, hold its connections, and
/// what the Gate does when its own disk fails under a message. The clients block: they run on
/// threads of their own (`offPool`), so the Gate's checks always find a cooperative thread.
@Suite(.serialized) struct GateLimitsTests {
    static func spoolBytes(_ varDir: String) -> Int {
        let dir = varDir + "/gate"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).reduce(0) { sum, name in
            sum + ((try? FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int) ?? 0)
        }
    }

    static func openTransaction(_ client: LineClient) -> Bool {
        _ = client.reply()
        client.send("EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        for _ in 0..<3 { _ = client.reply() }
        return client.reply().hasPrefix("354")
    }

    static func lines(_ megabytes: Int) -> String {
        String(repeating: String(repeating: "z", count: 1022) + "\r\n", count: megabytes * 1024)
    }

    /// MaxSpoolSize bounds all connections together: the message that would pass it is read
    /// and dropped, the client gets 452, and the message already held is delivered whole.
    @Test func theSpoolBoundIsSharedAndPastItA452() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, config: "MaxSpoolSize = 4mb\n",
                                               mailD: "SpoolThreshold = 64kb")
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let (port, varDir) = (gate.port, gate.varDir)
        let replies = try await offPool { () -> [String] in
            // The first message's check (3 MB, a debug build) took more than a minute once in a
            // full run beside the other suites; its answer, not its speed, is what is tested.
            let first = try LineClient(port: port, readTimeout: 300)
            guard Self.openTransaction(first) else { return ["no 354 for the first"] }
            first.send("Subject: first\r\n\r\n" + Self.lines(3))
            for _ in 0..<300 where Self.spoolBytes(varDir) < 3 << 20 { usleep(100_000) }
            let held = Self.spoolBytes(varDir)
            let second = try LineClient(port: port)
            guard Self.openTransaction(second) else { return ["no 354 for the second"] }
            second.send("Subject: second\r\n\r\n" + Self.lines(2) + ".\r\n")
            let secondReply = second.reply()
            let afterSecond = Self.spoolBytes(varDir)
            first.send(".\r\n")
            return [secondReply, first.reply(), "\(held)", "\(afterSecond)"]
        }
        #expect(replies.count == 4)
        guard replies.count == 4 else { return }
        #expect(replies[0] == "452 4.3.1 Insufficient system storage, try again later\r\n")
        #expect(replies[1] == "250 2.0.0 Ok: queued as FAKE1\r\n")
        // The second message left nothing behind; the first was all there.
        #expect(Int(replies[2])! >= 3 << 20)
        #expect(Int(replies[3])! < 4 << 20)
        let received = server.received.withLock { $0 }
        #expect(received.count == 1)
        #expect(received.first?.hasPrefix("Subject: first") == true)
        #expect(await eventually { Self.spoolBytes(gate.varDir) == 0 })
    }

    /// The spool file shrinks under the relay while it is sent (a disk error, a truncation):
    /// what was read must not reach the server as the whole message.
    @Test func aSpoolFileThatFailsMidSendIsNeverSentAsComplete() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, mailD: "SpoolThreshold = 64kb",
                                               spoolReadHook: { path, chunk in
                                                   if chunk == 1 { _ = truncate(path, 1000) }
                                               })
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let port = gate.port
        let replies = try await offPool { () -> [String] in
            let client = try LineClient(port: port)
            guard Self.openTransaction(client) else { return ["no 354"] }
            client.send("Subject: big\r\n\r\n" + Self.lines(1) + ".\r\n")
            return [client.reply(), client.reply()]
        }
        #expect(replies == ["451 4.3.0 Local error in processing: the message could not be read back, try again later\r\n", ""])
        try await Task.sleep(for: .milliseconds(300))
        // The server got DATA and part of the message, never its end: nothing was queued.
        #expect(server.commands.withLock { $0 }.contains("DATA"))
        #expect(server.received.withLock { $0 }.isEmpty)
    }

    /// A check that records when it starts and when it is cancelled (held open until then).
    final class HeldCheck: Sendable {
        let started = Mutex(0)
        let cancelled = Mutex(0)
        var hook: @Sendable () async -> Void {
            { [self] in
                started.withLock { $0 += 1 }
                do { try await Task.sleep(for: .seconds(60)) } catch { cancelled.withLock { $0 += 1 } }
            }
        }
        func waitForStart() {
            let deadline = Date().addingTimeInterval(10)
            while started.withLock({ $0 }) == 0, Date() < deadline { usleep(20_000) }
        }
    }

    /// A client that hangs up while its message is being checked: the check is cancelled
    /// (the engine's scans with it), nothing is sent upstream, and the spool is emptied.
    @Test func anSMTPCheckUnderWayIsCancelledWhenTheClientHangsUp() async throws {
        let check = HeldCheck()
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, mailD: "SpoolThreshold = 64kb",
                                               checkHook: check.hook)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let port = gate.port
        try await offPool {
            let client = try LineClient(port: port)
            guard Self.openTransaction(client) else { Issue.record("no 354"); return }
            client.send("Subject: big\r\n\r\n" + Self.lines(1) + ".\r\n")
            check.waitForStart()
        }
        #expect(check.started.withLock { $0 } == 1, "the check started")
        #expect(await eventually { check.cancelled.withLock { $0 } == 1 }, "and was cancelled when the client left")
        #expect(server.received.withLock { $0 }.isEmpty)
        #expect(await eventually { Self.spoolBytes(gate.varDir) == 0 })
    }

    /// The same for a POP3 message held for its check: the check dies with the connection.
    @Test func aPOP3CheckUnderWayIsCancelledWhenTheClientHangsUp() async throws {
        let check = HeldCheck()
        let stuffed = String(buffer: DotStuffer.stuffed(Array("Subject: hi\r\n\r\nhello\r\n".utf8)))
        let server = try await ScriptedServer(greeting: "+OK ready\r\n") { line in
            line.hasPrefix("RETR") ? ("+OK message follows\r\n" + stuffed, false) : ("+OK\r\n", false)
        }
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.address, protocol: .pop3, checkHook: check.hook)
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let port = gate.port
        try await offPool {
            let client = try LineClient(port: port)
            _ = client.readLine()
            client.send("RETR 1\r\n")
            check.waitForStart()
        }
        #expect(check.started.withLock { $0 } == 1, "the check started")
        #expect(await eventually { check.cancelled.withLock { $0 } == 1 }, "and was cancelled when the client left")
    }

    /// The listen queue is as long as MaxConnections, as far as the kernel allows (`ss -ltn`
    /// shows it as Send-Q): a burst of clients waits there to be accepted. With a short one,
    /// clients completed by SYN cookies while it was full were lost, waiting for a greeting.
    @Test func theListenQueueIsAsLongAsMaxConnections() async throws {
        let server = try await FakeSMTPServer()
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, config: "MaxConnections = 3000\n")
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let somaxconn = try String(contentsOfFile: "/proc/sys/net/core/somaxconn", encoding: .utf8)
        let listening = run("/usr/bin/ss", ["-ltnH", "sport = :\(gate.port)"])
        let fields = listening.out.split(whereSeparator: \.isWhitespace)
        #expect(listening.status == 0 && fields.count >= 3 && fields[0] == "LISTEN", "\(listening)")
        #expect(fields.count >= 3 && Int(fields[2]) == min(3000, Int(somaxconn.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0),
                "Send-Q of the Gate's listener: \(listening.out)")
    }

    /// Where the kernel caps the queue below MaxConnections, moatd says so at start, and how
    /// to raise it; not otherwise.
    @Test func aShorterKernelQueueIsReported() {
        let advice = GateService.listenQueueAdvice(somaxconn: 128, maxConnections: 4096)
        #expect(advice?.contains("net.core.somaxconn") == true && advice?.contains("sysctl -w net.core.somaxconn=4096") == true)
        #expect(GateService.listenQueueAdvice(somaxconn: 4096, maxConnections: 4096) == nil)
        #expect(GateService.listenQueueAdvice(somaxconn: nil, maxConnections: 4096) == nil)
    }

    /// MaxConnections: past it a client hears the protocol's own "busy" and is closed; the
    /// connections already open go on, and a slot freed is a slot taken again.
    @Test(arguments: [(GateProtocol.smtp, "421 4.3.2 Too many connections through this gateway, try again later\r\n"),
                      (.pop3, "-ERR [SYS/TEMP] Too many connections through this gateway, try again later\r\n"),
                      (.imap, "* BYE [UNAVAILABLE] Too many connections through this gateway, try again later\r\n")])
    func pastMaxConnectionsAClientHearsBusy(_ proto: GateProtocol, _ busy: String) async throws {
        let hello = switch proto {
        case .smtp: "220 fake.example.org ESMTP\r\n"
        case .pop3: "+OK fake POP3\r\n"
        case .imap: "* OK fake IMAP\r\n"
        }
        let server = try await FakeSMTPServer(greeting: hello)
        defer { server.stop() }
        let gate = try await GateFixtures.gate(upstream: server.channel.localAddress!, protocol: proto, config: "MaxConnections = 2\n")
        defer { gate.channels.forEach { $0.close(promise: nil) } }
        let port = gate.port
        let lines = try await offPool { () -> [String?] in
            var first: LineClient? = try LineClient(port: port)
            let second = try LineClient(port: port)
            let greetings = [first!.readLine(), second.readLine()]
            let third = try LineClient(port: port)
            let refused = [third.readLine(), third.readLine()]
            first = nil
            var served = false
            for _ in 0..<50 where !served {
                usleep(100_000)
                served = try LineClient(port: port).readLine() == hello
            }
            return greetings + refused + [served ? "served" : "not served"]
        }
        #expect(lines == [hello, hello, busy, nil, "served"])
    }
}
