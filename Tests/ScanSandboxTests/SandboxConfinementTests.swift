import Foundation
import Testing
@testable import ScanSandbox
import ThreatEngine

@Suite("Sandboxed scanner: what a worker cannot do")
struct SandboxConfinementTests {
    @Test("from inside a worker: no TCP or UDP socket, no unix connect, secrets unreadable, nothing writable outside its scratch")
    func confinement() async throws {
        // A state directory like VarDir, with a CA key only its owner (root here) may read.
        let state = NSTemporaryDirectory() + "moat-probe-state-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let key = state + "/ca.key"
        try Data("-----BEGIN PRIVATE KEY-----\n".utf8).write(to: URL(fileURLWithPath: key))
        chmod(key, 0o600)
        let outside = ["/var/tmp/moat-probe-\(UUID().uuidString)", "/etc/moat-probe-\(UUID().uuidString)",
                       state + "/planted", "/root/moat-probe-\(UUID().uuidString)"]
        defer { outside.forEach { unlink($0) } }

        let scanner = try makeScanner(masked: [state])
        let probe = try scanner.probe(readPaths: [key, "/etc/shadow"], writePaths: outside)
        #expect(!probe.tcpSocket)
        #expect(!probe.udpSocket)
        #expect(!probe.unixSocketConnect)
        #expect(probe.readable.isEmpty, "read: \(probe.readable)")
        #expect(probe.writable.isEmpty, "wrote: \(probe.writable)")
        #expect(probe.scratchWritable)
        #expect(probe.addressSpaceLimit < UInt64.max, "RLIMIT_AS is set")
        for path in outside { #expect(!FileManager.default.fileExists(atPath: path), "\(path) was created") }
        if runningAsRoot {
            let user = try #require(getpwnam("moat-scan"), "scripts/create-users.sh makes moat-scan")
            #expect(probe.uid == user.pointee.pw_uid)
            #expect(scanner.measures.contains { $0.hasPrefix("user moat-scan") }, "\(scanner.measures)")
            #expect(scanner.measures.contains { $0.contains("network") })
        }
    }
}
