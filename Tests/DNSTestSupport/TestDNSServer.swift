import DNS
import DNSResolver
import Foundation

/// A real authoritative DNS server for tests: Debian's NSD on 127.0.0.1:<free port>, serving
/// zones the test writes, signed with DNSSEC by ldns-signzone (ldnsutils), and an
/// `UnboundResolver` that forwards to it with the signed zones' keys as trust anchors.
///
///     let server = try await TestDNSServer.start(zones: [
///         .init("auth.test", signing: .signed, records: [
///             #"@ TXT "v=spf1 ip4:192.0.2.0/24 -all""#,
///             TestDNSServer.txt("sel._domainkey", "v=DKIM1; k=rsa; p=MIIB..."),  // a DKIM key, any length
///             "_25._tcp.mx TLSA 3 1 1 0123...",                     // DANE
///             "mx A 192.0.2.25",
///         ]),
///         .init("plain.test", signing: .unsigned, records: [...]),        // answers .insecure
///         .init("broken.test", signing: .brokenSignature, records: [...]), // answers .bogus
///     ])
///     defer { server.stop() }
///     let resolver = try server.resolver()          // stop it too: resolver.shutdown()
///
/// Records are zone-file lines relative to the zone (`@`, `www`, or names ending in a dot);
/// the SOA, the NS and the name server's address are added. `.brokenSignature` signs the zone
/// and then changes the data of its TXT and TLSA records (validation fails: bogus);
/// `.expiredSignature` signs with signatures that expired in 2020. For the failure modes a
/// real server does not produce, see `SilentDNSServer` (never answers: time-outs) and
/// `TruncatingDNSServer` (answers every UDP query truncated, refuses TCP). Looping CNAMEs and
/// oversize answers are ordinary zone data here. Needs nsd and ldnsutils (scripts/deps/senderauth.txt).
public final class TestDNSServer: @unchecked Sendable {
    public struct Zone: Sendable {
        public enum Signing: Sendable { case signed, unsigned, brokenSignature, expiredSignature }
        public var name: String
        public var signing: Signing
        public var records: [String]

        public init(_ name: String, signing: Signing = .signed, records: [String]) {
            self.name = DNSName.normalized(name)
            self.signing = signing
            self.records = records
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A TXT record line for a zone: `text` cut into strings of at most 255 bytes (what a DKIM
    /// key of 2048 bits needs), quotes and backslashes escaped, other bytes outside printable
    /// ASCII written `\DDD`. `TestDNSServer.txt("sel._domainkey", "v=DKIM1; k=rsa; p=MIIB...")`
    public static func txt(_ owner: String, _ text: String) -> String {
        let bytes = Array(text.utf8)
        let strings = stride(from: 0, to: max(bytes.count, 1), by: 255).map { start in
            bytes[start..<min(start + 255, bytes.count)].map { byte -> String in
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): return "\\" + String(UnicodeScalar(byte))
                case 0x20...0x7e: return String(UnicodeScalar(byte))
                default: return "\\" + String(format: "%03d", byte)
                }
            }.joined()
        }
        return "\(owner) TXT " + strings.map { "\"\($0)\"" }.joined(separator: " ")
    }

    public let port: UInt16
    public let directory: String
    /// The DNSKEY records of every signed zone (also the broken ones: that is what makes them
    /// bogus rather than insecure).
    public let trustAnchors: [String]
    private let process: Process

    private init(port: UInt16, directory: String, trustAnchors: [String], process: Process) {
        self.port = port
        self.directory = directory
        self.trustAnchors = trustAnchors
        self.process = process
    }

    /// Writes and signs the zones, starts NSD and waits until it answers (on a thread of its
    /// own: signing and starting block).
    /// `namespace`: run NSD in that network namespace (`ip netns exec`), on `address` there,
    /// for a daemon under test in a namespace of its own (the gateway tests).
    public static func start(zones: [Zone], address: String = "127.0.0.1", namespace: String? = nil) async throws -> TestDNSServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                // The free port is free when chosen; another test may take it before NSD
                // binds it. Try again with another.
                var result = Result { try startBlocking(zones: zones, address: address, namespace: namespace) }
                for _ in 0..<2 {
                    guard case .failure = result else { break }
                    result = Result { try startBlocking(zones: zones, address: address, namespace: namespace) }
                }
                continuation.resume(with: result)
            }
        }
    }

    /// A resolver forwarding to this server, validating with `trustAnchors` (not the root's).
    public func resolver(timeout: Duration = .seconds(5), maxRecords: Int = 64,
                         maxAnswerBytes: Int = 16 * 1024) throws -> UnboundResolver {
        var configuration = Self.configuration(port: port, timeout: timeout)
        configuration.trustAnchors = trustAnchors
        configuration.maxRecords = maxRecords
        configuration.maxAnswerBytes = maxAnswerBytes
        return try UnboundResolver(configuration)
    }

    /// What a test resolver forwarding to 127.0.0.1:`port` is: no root trust anchor (nothing
    /// validates up to the real root here), and `test.` resolved upstream (libunbound answers
    /// it itself by default, RFC 6761). Test zones should live under `test.`.
    public static func configuration(port: UInt16, timeout: Duration = .seconds(5),
                                     maxPendingQueries: Int = 1024) -> ResolverConfiguration {
        var configuration = ResolverConfiguration(
            upstream: .forward(["127.0.0.1@\(port)"]), trustAnchorFile: nil, queryTimeout: timeout,
            maxPendingQueries: maxPendingQueries)
        configuration.upstreamReservedZones = ["test"]
        return configuration
    }

    /// Stops NSD and removes its directory. The process started is NSD's xfrd (it forks the
    /// main process, whose pid is in the pid file, and that one handles SIGTERM and ends the
    /// rest); anything still running after 10 s is killed.
    public func stop() {
        if let text = try? String(contentsOfFile: directory + "/nsd.pid", encoding: .utf8),
           let main = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), main > 1 {
            kill(main, SIGTERM)
        }
        if process.isRunning { process.terminate() }
        let until = Date().addingTimeInterval(10)
        while process.isRunning && Date() < until { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func startBlocking(zones: [Zone], address: String = "127.0.0.1", namespace: String? = nil) throws -> TestDNSServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moat-nsd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var anchors: [String] = []
        var zoneConfig = ""
        for zone in zones {
            let file = try ZoneSigner.write(zone, in: directory)
            if let key = file.key { anchors.append(key) }
            zoneConfig += "zone:\n    name: \(zone.name)\n    zonefile: \(file.path)\n"
        }
        let port = try LoopbackPort.free()
        let config = """
            server:
                ip-address: \(address)
                port: \(port)
                username: ""
                chroot: ""
                zonesdir: "\(directory)"
                database: ""
                zonelistfile: "\(directory)/zone.list"
                xfrdfile: "\(directory)/xfrd.state"
                xfrdir: "\(directory)"
                pidfile: "\(directory)/nsd.pid"
                logfile: "\(directory)/nsd.log"
                server-count: 1
                verbosity: 1
                do-ip6: no
                reuseport: no
            remote-control:
                control-enable: no

            """ + zoneConfig
        try config.write(toFile: directory + "/nsd.conf", atomically: true, encoding: .utf8)
        let process = Process()
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, "/usr/sbin/nsd", "-d", "-c", directory + "/nsd.conf"]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/nsd")
            process.arguments = ["-d", "-c", directory + "/nsd.conf"]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle.nullDevice
        // NSD inherits this thread's signal mask: a test runner's threads may block SIGTERM,
        // and NSD would then never stop. This thread is ours alone (see `start`).
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        try process.run()
        let server = TestDNSServer(port: port, directory: directory, trustAnchors: anchors, process: process)
        // Ready when its TCP port accepts (NSD opens UDP and TCP together, before loading zones
        // finishes, so ask for a zone's SOA too).
        let until = Date().addingTimeInterval(30)
        while Date() < until {
            if !process.isRunning { break }
            if namespace != nil {
                // Not reachable from here: NSD logs when its zones are loaded and it serves.
                let log = (try? String(contentsOfFile: directory + "/nsd.log", encoding: .utf8)) ?? ""
                if log.contains("nsd started") || log.contains("zone") && FileManager.default.fileExists(atPath: directory + "/nsd.pid") {
                    usleep(300_000)
                    return server
                }
            } else if zones.isEmpty || LoopbackPort.answersSOA(port: port, zone: zones[0].name) {
                return server
            }
            usleep(50_000)
        }
        let log = (try? String(contentsOfFile: directory + "/nsd.log", encoding: .utf8)) ?? ""
        server.stop()
        throw Failure(description: "nsd did not start on \(address):\(port): \(log)")
    }
}
