import Foundation
import Logging
import Testing
@testable import ScanSandbox
import ThreatEngine

/// `moat-scan --listen`, as moat-scan.service runs it: moatd connects instead of starting it.
@Suite("Scan service: moat-scan --listen")
struct ScanServiceTests {
    final class Service {
        let process = Process()
        let directory: String
        var socket: String { directory + "/scan.sock" }

        init() throws {
            directory = NSTemporaryDirectory() + "moat-scan-service-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
            process.executableURL = URL(fileURLWithPath: try #require(ScanWorkerExecutable.locate()))
            process.arguments = ["--listen", directory + "/scan.sock", "--scratch", directory + "/tmp"]
            try process.run()
            for _ in 0..<500 where !FileManager.default.fileExists(atPath: socket) { usleep(10_000) }
        }

        deinit {
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: directory)
        }

        func scanner() throws -> SandboxedScanner {
            let configuration = SandboxConfiguration(signatureDirectory: "/nonexistent/moat-test-signatures", limits: .default,
                                                     scratchDirectory: "/unused")
            return try SandboxedScanner(configuration: configuration, supervisor: .service(socket: socket), workerCount: 2,
                                        logger: Logger(label: "ScanServiceTests"))
        }
    }

    @Test("moatd connects, scans through the service's workers, and a restarted moatd connects again")
    func scansThroughTheService() async throws {
        let service = try Service()
        do {
            let scanner = try service.scanner()
            #expect(scanner.measures.contains { $0.contains("confined by its service unit") }, "\(scanner.measures)")
            #expect(scanner.supervisorPID == service.process.processIdentifier)
            #expect(await scanner.scan(bytes: eicar).threats.count == 1)
            #expect(await scanner.scan(bytes: Array("clean\n".utf8)) == .clean)
        }
        // The first moatd is gone (its workers with it); the service takes the next one.
        let again = try service.scanner()
        #expect(await again.scan(bytes: eicar).threats.count == 1)
        #expect(service.process.isRunning)
    }

    @Test("a user other than root and moat is refused")
    func otherUsersAreRefused() throws {
        let service = try Service()
        guard geteuid() == 0 else { return }
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(sys.argv[1])
            s.settimeout(5)
            try:
                s.send(b'{"spawn":{}}')
                print("answered" if s.recv(65536) else "closed")
            except (BrokenPipeError, ConnectionResetError):
                print("closed")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script, service.socket]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(said.trimmingCharacters(in: .whitespacesAndNewlines) == "closed", "\(said)")
    }
}
